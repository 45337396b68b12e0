import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";

/**
 * A Redis Cluster of a test's own: three masters (no replicas) on free loopback ports, as
 * child processes with their files in a temporary folder. Nothing is persisted; `stop`
 * kills them and removes the folder. The shared Redis on 6379 is never touched.
 */
export interface LocalRedisCluster {
  /** One "127.0.0.1:PORT" per master: what REDIS_CLUSTER_NODES takes, comma-joined. */
  nodes: string[];
  /** Stops every master and removes the folder; safe to call twice or after a failed start. */
  stop(): Promise<void>;
}

const HOST = "127.0.0.1";
/** A node also listens on its port + 10000 for the cluster bus, so both must be free. */
const BUS_PORT_OFFSET = 10_000;
const START_ATTEMPTS = 3;
const START_TIMEOUT_MS = 5_000;
const CREATE_TIMEOUT_MS = 15_000;
const CLUSTER_OK_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 3_000;

const run = promisify(execFile);

export async function startRedisCluster(masters = 3): Promise<LocalRedisCluster> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "dealdrop-cluster-"));
  const children: ChildProcess[] = [];
  // If the test process exits without its afterAll, the masters must not outlive it.
  const killOnExit = () => {
    for (const child of children) child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(children.map(stopProcess));
    process.removeListener("exit", killOnExit);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const ports: number[] = [];
    for (let i = 0; i < masters; i++) {
      const master = await startMaster(dir, ports);
      children.push(master.child);
      ports.push(master.port);
    }
    const nodes = ports.map((port) => `${HOST}:${port}`);
    await run(
      "redis-cli",
      ["--cluster", "create", ...nodes, "--cluster-replicas", "0", "--cluster-yes"],
      { timeout: CREATE_TIMEOUT_MS },
    );
    await Promise.all(ports.map(waitUntilClusterOk));
    return { nodes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Starts one master and waits until it answers. Another process may take the free port
 * between our probe and the server's bind; then it exits at once, and we try another port.
 */
async function startMaster(dir: string, taken: number[]) {
  for (let attempt = 1; ; attempt++) {
    const port = await freePortWithFreeBus(taken);
    const child = spawn(
      "redis-server",
      [
        ...["--port", String(port), "--bind", HOST, "--cluster-enabled", "yes"],
        ...["--cluster-config-file", path.join(dir, `nodes-${port}.conf`)],
        ...["--save", "", "--appendonly", "no", "--dir", dir],
        ...["--logfile", path.join(dir, `redis-${port}.log`)],
      ],
      { stdio: "ignore" },
    );
    // A failed spawn (no redis-server installed) sets exitCode; waitUntilAccepting reports it.
    child.once("error", () => undefined);
    try {
      await waitUntilAccepting(port, child, dir);
      return { port, child };
    } catch (error) {
      await stopProcess(child);
      if (attempt === START_ATTEMPTS || child.pid === undefined) throw error;
    }
  }
}

/** A port the kernel just handed out whose bus port is free too (and not already taken). */
async function freePortWithFreeBus(taken: number[]): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = await listenBriefly(0);
    if (port + BUS_PORT_OFFSET > 65_535 || taken.includes(port)) continue;
    if ((await listenBriefly(port + BUS_PORT_OFFSET).catch(() => null)) !== null) return port;
  }
  throw new Error("found no free loopback port whose cluster bus port was free too");
}

async function listenBriefly(port: number): Promise<number> {
  const server = net.createServer();
  server.listen(port, HOST);
  await Promise.race([
    once(server, "listening"),
    once(server, "error").then(([error]) => Promise.reject(error)),
  ]);
  const bound = (server.address() as net.AddressInfo).port;
  server.close();
  await once(server, "close");
  return bound;
}

async function waitUntilAccepting(port: number, child: ChildProcess, dir: string) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.pid === undefined) {
      throw new Error("could not start redis-server: is it installed and on the PATH?");
    }
    if (child.exitCode !== null) {
      const log = await readFile(path.join(dir, `redis-${port}.log`), "utf8").catch(() => "");
      throw new Error(`redis-server on ${port} exited at start:\n${log.slice(-1_000)}`);
    }
    if ((await askNode(port, (node) => node.ping()).catch(() => null)) === "PONG") return;
    await sleep(20);
  }
  throw new Error(`redis-server on ${port} did not answer within ${START_TIMEOUT_MS} ms`);
}

/** Every master must have learnt the whole slot map before a client asks it for one. */
async function waitUntilClusterOk(port: number) {
  const deadline = Date.now() + CLUSTER_OK_TIMEOUT_MS;
  let info = "";
  while (Date.now() < deadline) {
    info = await askNode(port, (node) => node.cluster("INFO") as Promise<string>).catch(() => "");
    if (info.includes("cluster_state:ok")) return;
    await sleep(50);
  }
  throw new Error(
    `node ${port} did not reach cluster_state:ok within ${CLUSTER_OK_TIMEOUT_MS} ms:\n${info}`,
  );
}

/** One command on a short-lived connection that neither retries nor queues. */
async function askNode<T>(port: number, command: (node: Redis) => Promise<T>): Promise<T> {
  const node = new Redis({
    host: HOST,
    port,
    lazyConnect: true,
    connectTimeout: 500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  node.on("error", () => undefined); // refused while the server starts: askNode rejects
  try {
    await node.connect();
    return await command(node);
  } finally {
    node.disconnect();
  }
}

/** SIGTERM (nothing to save), then SIGKILL if it has not exited in time. */
async function stopProcess(child: ChildProcess) {
  const running = child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  if (!running) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
