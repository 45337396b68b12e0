import { sql } from "drizzle-orm";
import superjson from "superjson";
import { rowsOf } from "@/db/client";
import { DEMO_ACCOUNTS } from "@/db/seed";
import { newId } from "@/lib/ids";
import { appRouter } from "@/server/api/root";
import { jsonAnswer, sendAnswer } from "@/server/http/json-answer";
import { createNodeMetricsRoute } from "@/server/http/metrics-route";
import { log } from "@/server/log";
import type { Services } from "@/testing/wired-services";
import { createServerModeServices, serveEdge } from "./edge-server";
import { callSpec, type RequestSpec, requestInitOf, urlOf } from "./hostile-http";
import { envelopeOf, type KnownIds } from "./hostile-input";
import { type Procedure, proceduresOf } from "./router-procedures";
import { createTestDatabase, type TestDatabase } from "./test-database";

export type Role = "anonymous" | "shopper" | "staff" | "admin" | "device";
export const ROLES: Role[] = ["anonymous", "shopper", "staff", "admin", "device"];

/** Known, so that tests can sign session tokens the server must still refuse. */
export const SESSION_SECRET = "fuzz-test session secret, long enough to be accepted";

export interface FuzzWorld {
  database: TestDatabase;
  services: Services;
  /** The HTTP edge (server/http/http-edge.ts) on 127.0.0.1, serving tRPC, claims and live stock. */
  baseUrl: string;
  prefix: string;
  procedures: Map<string, Procedure>;
  /** Request headers of each role: a demo account's session cookie, or a device credential. */
  headersOf: Record<Role, Record<string, string>>;
  /** The staff member's session token, and the credential of a device enrolled by them. */
  staffToken: string;
  deviceCredential: string;
  known: KnownIds;
  send(spec: RequestSpec, headers: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/**
 * The one address the fuzz world's server trusts as a proxy (TRUSTED_PROXIES): requests sent
 * from it name their client in X-Forwarded-For, as a crowd behind a proxy does. Requests sent
 * from another loopback address (127.0.0.2, …) come from an untrusted peer.
 */
export const FUZZ_PROXY = "127.0.0.1";

/**
 * A seeded database and services behind the real HTTP edge on a loopback port (tRPC, the
 * claim route, live stock, the claim server's metrics; anything else a typed 404), signed in once as each demo role
 * (sign-in is rate limited), with one enrolled device, and settled: every query that takes
 * no input has been read once as each role, since a first read may do lazy work
 * (`vouchers.mine` issues the vouchers of confirmed claims). Each role has an address of its
 * own, sent as X-Forwarded-For through the declared proxy hop.
 */
export async function openFuzzWorld(): Promise<FuzzWorld> {
  log.level = "error"; // thousands of refused requests are logged at info
  const database = await createTestDatabase();
  try {
    return await settle(database);
  } catch (error) {
    await database.drop();
    throw error;
  }
}

async function settle(database: TestDatabase): Promise<FuzzWorld> {
  const prefix = `test:${newId()}:`;
  const services = await createServerModeServices(database, prefix, {
    SESSION_SECRET,
    TRUSTED_PROXIES: FUZZ_PROXY,
    DEMO_SEED: "on",
  });
  // Behind the edge, as on the claim server: its metrics, and a typed 404 for the rest.
  const serveMetrics = createNodeMetricsRoute(services);
  const edge = await serveEdge(services, FUZZ_PROXY, (req, res) => {
    if (req.url === "/api/metrics") return serveMetrics(req, res);
    const error = {
      code: "NOT_FOUND" as const,
      message: "No page here: the fuzz world has no Next.",
    };
    sendAnswer(req, res, jsonAnswer(404, { error }, "GET"));
  });
  try {
    return await signInRoles(database, services, prefix, edge.baseUrl, edge.close);
  } catch (error) {
    await edge.close();
    await services.stop();
    throw error;
  }
}

async function signInRoles(
  database: TestDatabase,
  services: Services,
  prefix: string,
  baseUrl: string,
  closeServer: () => Promise<void>,
): Promise<FuzzWorld> {
  const send = (spec: RequestSpec, headers: Record<string, string>) =>
    fetch(urlOf(baseUrl, spec), requestInitOf(spec, headers));
  const answerOf = async <T>(response: Response) => {
    const body = (await response.json()) as { result?: { data: never } };
    if (!body.result) throw new Error(`setup call refused: ${JSON.stringify(body)}`);
    return superjson.deserialize<T>(body.result.data);
  };
  const signIn = async (email: string) => {
    const body = envelopeOf({ email, password: DEMO_ACCOUNTS.password });
    const response = await send(callSpec("auth.signIn", "mutation", body), {});
    await answerOf(response.clone());
    return (response.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  };
  const staffCookie = await signIn(DEMO_ACCOUNTS.merchantStaff[0] ?? "");
  const headersOf: Record<Role, Record<string, string>> = {
    anonymous: {},
    shopper: { cookie: await signIn(DEMO_ACCOUNTS.shoppers[0] ?? "") },
    staff: { cookie: staffCookie },
    admin: { cookie: await signIn(DEMO_ACCOUNTS.admin) },
    device: {},
  };
  const enrol = callSpec("merchant.enrollDevice", "mutation", envelopeOf({ name: "Fuzz till" }));
  const { credential } = await answerOf<{ credential: string }>(await send(enrol, headersOf.staff));
  headersOf.device = { "x-device-credential": credential };
  ROLES.forEach((role, i) => {
    headersOf[role]["x-forwarded-for"] = `198.51.100.${i + 1}`;
  });
  const procedures = proceduresOf(appRouter);
  for (const { path, type, parsers } of procedures.values()) {
    if (type !== "query" || parsers.length > 0) continue;
    for (const role of ROLES)
      await (
        await send(callSpec(path, type, envelopeOf(undefined)), headersOf[role])
      ).arrayBuffer();
  }
  return {
    database,
    services,
    baseUrl,
    prefix,
    procedures,
    headersOf,
    staffToken: staffCookie.slice(staffCookie.indexOf("=") + 1),
    deviceCredential: credential,
    known: await knownIds(database),
    send,
    async close() {
      const keys = await services.redis?.keys(`${prefix}*`);
      if (keys?.length) await services.redis?.del(...keys);
      await closeServer();
      await services.stop();
      await database.drop();
    },
  };
}

async function knownIds(database: TestDatabase): Promise<KnownIds> {
  const ids = rowsOf<{ id: string }>(
    await database.db.execute(sql`SELECT id FROM deals UNION ALL SELECT id FROM merchants
      UNION ALL SELECT id FROM claims UNION ALL SELECT id FROM vouchers
      UNION ALL SELECT id FROM merchant_devices UNION ALL SELECT id FROM users`),
  );
  const kids = rowsOf<{ kid: string }>(
    await database.db.execute(sql`SELECT kid FROM signing_keys`),
  );
  return { ids: ids.map((row) => row.id), kids: kids.map((row) => row.kid) };
}
