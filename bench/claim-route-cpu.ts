/**
 * `npm run bench:route`: what the claim route's own code costs per claim, with no network,
 * Redis or Postgres: `answerClaim` end to end (with the edge's clientAddress) over a gate that
 * always answers SOLD_OUT at once, and its parts one by one. In-process and single-threaded, so it is steady on a
 * noisy machine where `npm run bench:cpu` is not: the place to try a change to the hot path
 * first. tsx's transform keeps function names with a helper, so these figures run ~30% above
 * the bundled server's; compare them with each other, not with the bench's.
 * Knobs (env): BENCH_CALLS (200,000 per measurement).
 */

import type { Db } from "@/db/client";
import { claimInputSchema } from "@/lib/claims/claim-contract";
import { SessionCodec } from "@/server/auth/session";
import { BotCheck } from "@/server/bots/bot-check";
import { Challenges, MemoryUsedAnswers } from "@/server/bots/challenges";
import type { ClaimEngine } from "@/server/claims/claim-engine";
import { ClaimService } from "@/server/claims/claim-service";
import { answerClaim, type ClaimHttpRequest } from "@/server/http/claim-route";
import { clientAddress } from "@/server/http/client-address";
import { parseProxyTrust } from "@/server/http/proxy-trust";
import { SaleStats } from "@/server/monitor/sale-stats";
import { LocalSaleStatsStore } from "@/server/monitor/sale-stats-store";
import { Metrics } from "@/server/observability/metrics";
import type { VoucherIssuer } from "@/server/vouchers/voucher-issuer";
import { BENCH_SESSION_SECRET } from "./processes";
import { positiveInt } from "./report";

const SHOPPERS = 1_000;
const DEAL_ID = "AbCdEfGh1234";
/** The crowd arrives as the HTTP bench's does: through a declared proxy hop, from the app's page. */
const PROXY = "::ffff:127.0.0.1";
const TRUST = parseProxyTrust("127.0.0.1");
const PUBLIC_ORIGIN = "http://127.0.0.1:3000";

/** The gate, answered in no time: every cost left is the route's. */
const soldOutGate = {
  claim: async (request: { decided?: () => void }) => {
    request.decided?.();
    return { outcome: "SOLD_OUT" as const };
  },
} as unknown as ClaimEngine;

async function main() {
  const calls = positiveInt("BENCH_CALLS", 200_000);
  const metrics = new Metrics({ engine: "redis" });
  const saleStats = new SaleStats(new LocalSaleStatsStore());
  // Counting as in production, with a threshold no bench shopper reaches: the cost everyone
  // below it pays. (This bench's 1,000 shoppers claim far faster than people, who never reach it.)
  const bots = new BotCheck(
    Number.MAX_SAFE_INTEGER,
    new Challenges(Buffer.from(BENCH_SESSION_SECRET), 100_000, new MemoryUsedAnswers()),
  );
  // The gate alone is asked: the database and the voucher issuer are never reached.
  const claims = new ClaimService(
    soldOutGate,
    null as unknown as Db,
    null as unknown as VoucherIssuer,
    {
      bots,
      observe: (attempt) => {
        metrics.observeClaim(attempt);
        saleStats.record(attempt);
      },
    },
  );
  const sessions = new SessionCodec(BENCH_SESSION_SECRET);
  const tokens: string[] = [];
  for (let i = 0; i < SHOPPERS; i++) {
    const userId = `shopper${String(i).padStart(5, "0")}`;
    tokens.push(await sessions.issue({ userId, role: "shopper", displayName: "Shopper" }));
  }
  let sent = 0;
  const request = (): ClaimHttpRequest => {
    sent++;
    const headers: Record<string, string> = {
      "content-type": "application/json",
      cookie: `dd_session=${tokens[sent % SHOPPERS]}`,
      origin: PUBLIC_ORIGIN,
      "x-forwarded-for": `10.0.${(sent >> 8) & 255}.${sent & 255}`,
    };
    const body = `{"dealId":"${DEAL_ID}","idempotencyKey":"bench-key-${sent}"}`;
    // The edge finds the address before the route runs (http-edge.ts): its cost is counted.
    const address = clientAddress(PROXY, headers["x-forwarded-for"], TRUST);
    return { method: "POST", header: (name) => headers[name], body: async () => body, address };
  };
  const claimRoute = () => answerClaim({ claims, sessions }, request(), PUBLIC_ORIGIN);
  const answer = await claimRoute();
  if (answer.status !== 200) throw new Error(`the route refused the bench's claim: ${answer.body}`);

  const input = { dealId: DEAL_ID, idempotencyKey: "bench-key-1" };
  const body = JSON.stringify(input);
  const parts: [string, () => unknown][] = [
    ["answerClaim, end to end", claimRoute],
    [
      "  clientAddress, through a proxy hop",
      () => clientAddress(PROXY, `10.0.0.${sent++ & 255}`, TRUST),
    ],
    ["  session check (SessionCodec.read)", () => sessions.read(tokens[sent++ % SHOPPERS])],
    ["  body parse and claimInputSchema", () => claimInputSchema.safeParse(JSON.parse(body))],
    ["  ClaimService.claim over the gate", () => claims.claim("shopper00001", input, "10.0.0.1")],
    ["    of which BotCheck.admit", () => bots.admit(`10.0.0.${sent++ & 255}`, "shopper00001")],
  ];
  console.log(`µs per call, median of 3 runs of ${calls.toLocaleString()} calls`);
  for (const [name, call] of parts) {
    const runs: number[] = [];
    for (let run = 0; run < 4; run++) {
      const started = performance.now();
      for (let i = 0; i < calls; i++) await call();
      // The first run warms the JIT up and is not counted.
      if (run > 0) runs.push(((performance.now() - started) * 1_000) / calls);
    }
    runs.sort((a, b) => a - b);
    console.log(`${name.padEnd(40)} ${runs[1]?.toFixed(2).padStart(6)}`);
  }
  saleStats.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
