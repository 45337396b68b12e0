/**
 * An app instance under load, run as a process of its own so that a crash test can kill it
 * with SIGKILL (see claim-worker-process.ts, which starts it):
 *
 *   node --conditions=react-server --import tsx testing/claim-worker.ts
 *
 * It builds the services from the environment as the app does, then claims WORKER_DEAL_ID
 * once for every shopper in the database, WORKER_CONCURRENCY at a time, with one
 * idempotency key per shopper (so a second run replays the first run's wins). A shopper
 * told UNAVAILABLE tries again after the delay given, as the client does (for up to 10 s).
 * It reports on stdout, one JSON line each: `{"ready":true}`, then `{"outcome":…}` per answer, then
 * `{"done":true}`.
 */
import { eq } from "drizzle-orm";
import { users } from "@/db/schema";
import { parseEnv } from "@/server/env";
import { createServices } from "@/testing/wired-services";
import { claimWave } from "./fault-sale";

const report = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

async function main() {
  const dealId = process.env.WORKER_DEAL_ID ?? "";
  const concurrency = Number(process.env.WORKER_CONCURRENCY ?? "32");
  const services = await createServices(parseEnv());
  const shoppers = await services.database.db
    .select({ id: users.id })
    .from(users)
    .where(eq(users.role, "shopper"))
    .orderBy(users.id);
  report({ ready: true });

  await claimWave(
    services.claims,
    dealId,
    shoppers.map(({ id }) => ({ userId: id, key: `crash-test-${id}` })),
    concurrency,
    {
      retryUnavailableForMs: 10_000,
      onAnswer: ({ result, error }) =>
        report(result ? { outcome: result.outcome } : { outcome: "ERROR", error: String(error) }),
    },
  );
  report({ done: true });
  await services.stop();
}

main().catch((error: unknown) => {
  report({ fatal: String(error) });
  process.exit(1);
});
