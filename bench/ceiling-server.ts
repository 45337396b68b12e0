/**
 * The ceiling: the least a claim can cost over HTTP on this machine. Bare node:http, the
 * body parsed, and the gate's own Lua script (claim.lua) by EVALSHA on one ioredis
 * connection; no session check, no validation, no Postgres. `npm run bench` runs the same
 * load against this and against the app, and reports the app's share of it.
 * Started by the bench as a child process: PORT, BENCH_REDIS_URL, BENCH_PREFIX, and
 * CEILING_WORKERS (default 1): with more, a node:cluster primary and that many workers on one
 * port, as the claim server runs with CLAIM_WORKERS.
 *
 * CEILING_GATE=minimal is the issue's minimal ceiling: the same node:http and JSON body, but
 * one EVALSHA of a bare check-and-decrement (bench/minimal-gate.lua) on the stock counter
 * `minimalStockKey` names, and a JSON answer. What the app adds over it is everything a sale
 * needs (session, validation, the full gate, the winners' Postgres write).
 */
import cluster from "node:cluster";
import { createServer } from "node:http";
import { newId } from "@/lib/ids";
import { gateKeys } from "@/server/claims/gate-keys";
import { decodeGateReply } from "@/server/claims/gate-reply";
import { createRedis } from "@/server/redis/client";
import { LuaScript } from "@/server/redis/lua-script";
import { minimalStockKey } from "./minimal-gate";

const workers = Number(process.env.CEILING_WORKERS ?? 1);
if (cluster.isPrimary && workers > 1) {
  for (let i = 0; i < workers; i++) cluster.fork();
  process.once("SIGTERM", () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGKILL");
    process.exit(0);
  });
} else {
  serve();
}

function serve() {
  const minimal = process.env.CEILING_GATE === "minimal";
  const minimalScript = new LuaScript("bench/minimal-gate.lua");
  const claimScript = new LuaScript("server/claims/lua/claim.lua");
  const redis = createRedis(process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379");
  const prefix = process.env.BENCH_PREFIX ?? "bench:";

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      try {
        const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        // The token's signature stands in for the user id: unique per shopper, never checked.
        const userId = (req.headers.cookie ?? "").slice(-16);
        const ip = String(req.headers["x-forwarded-for"] ?? "");
        if (minimal) {
          const outcome = await minimalScript.run(
            redis,
            [minimalStockKey(prefix, input.dealId)],
            [],
          );
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ result: { outcome } }));
          return;
        }
        const keys = gateKeys(prefix, input.dealId);
        const reply = decodeGateReply(
          await claimScript.run(
            redis,
            [...keys.forScripts, keys.shopperAttempts(userId), keys.addressAttempts(ip)],
            [userId, input.idempotencyKey, newId(), Date.now(), "", "", 20, 600, 10_000],
          ),
        );
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ result: { outcome: reply.outcome } }));
      } catch (error) {
        res.writeHead(500).end(String(error));
      }
    });
  });
  server.keepAliveTimeout = 65_000;
  // The same accept backlog as the app's servers (LISTEN_BACKLOG), for a fair comparison.
  server.listen(
    { port: Number(process.env.PORT ?? 3999), host: "127.0.0.1", backlog: 4_096 },
    () => {
      process.send?.("ready");
      console.log("ceiling server ready");
    },
  );
}
