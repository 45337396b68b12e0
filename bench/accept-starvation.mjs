/**
 * A finding about the platform, not about Dealdrop: a saturated Node.js HTTP server on this
 * machine stops taking new connections. Bare node:http with ~60 µs of work per request;
 * wrk holds 1,000 keep-alive connections on it while a newcomer opens a fresh connection
 * every 20 ms. With 100 wrk connections newcomers are answered in ~25 ms; with 1,000 about
 * 700 of wrk's connections sit in the accept queue (`ss -lnt` Recv-Q) and every newcomer is
 * answered only once wrk stops. So a p99 "at 1,000 connections" measures the accept queue,
 * for the bench's ceiling as for the app.
 *   node bench/accept-starvation.mjs [connections=1000]
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import http from "node:http";

const PORT = 4555;
const connections = Number(process.argv[2] ?? 1_000);

if (process.argv[2] === "serve") {
  const spin = (us) => {
    const end = performance.now() + us / 1_000;
    while (performance.now() < end);
  };
  http
    .createServer((req, res) => {
      req.resume();
      req.on("end", () =>
        setImmediate(() => {
          spin(60);
          res.end("ok");
        }),
      );
    })
    .listen({ port: PORT, host: "127.0.0.1", backlog: 4_096 }, () => process.send?.("up"));
} else {
  const server = spawn(process.execPath, [new URL(import.meta.url).pathname, "serve"], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  await once(server, "message");
  const wrk = spawn("wrk", ["-t2", `-c${connections}`, "-d6s", `http://127.0.0.1:${PORT}/`]);
  const wrkDone = once(wrk, "exit");
  await new Promise((resolve) => setTimeout(resolve, 300));
  const agent = new http.Agent({ keepAlive: false });
  const startedAt = performance.now();
  const arrive = () =>
    new Promise((resolve) => {
      const sentAt = performance.now();
      const req = http.request({ port: PORT, host: "127.0.0.1", method: "POST", agent }, (res) => {
        res.resume();
        res.on("end", () => resolve([sentAt - startedAt, performance.now() - sentAt]));
      });
      req.on("error", () => resolve([sentAt - startedAt, Number.NaN]));
      req.end("x");
    });
  const arrivals = [];
  for (let n = 0; n < 250; n++) {
    arrivals.push(arrive());
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const answered = await Promise.all(arrivals);
  await wrkDone;
  server.kill();
  const latencies = answered.map(([, ms]) => ms).sort((a, b) => a - b);
  const at = (q) => latencies[Math.floor(q * (latencies.length - 1))].toFixed(0);
  console.log(
    `wrk at ${connections} connections; a newcomer every 20 ms for 5 s: answered p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms`,
  );
  console.log(
    "sent at → answered after (ms):",
    answered
      .filter((_, i) => i % 25 === 0)
      .map(([sent, ms]) => `${sent.toFixed(0)}→${ms.toFixed(0)}`)
      .join(" "),
  );
}
