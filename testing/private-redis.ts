import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import net from "node:net";

/**
 * A `redis-server` of a test's own on a free loopback port, which the test may kill and
 * start again. Fault tests crash this one, never the Redis other test files share.
 * Nothing is persisted (no RDB, no AOF), so a restart always comes back empty.
 */
export interface PrivateRedis {
  port: number;
  url: string;
  /** SIGKILL, as a crash: no shutdown, no save. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty; resolves when it accepts commands. */
  restart(): Promise<void>;
  /** Starts it again (empty) if it is not running; a test's afterEach puts things back. */
  ensureRunning(): Promise<void>;
  /** Kills it for good (a later restart does nothing); safe to call twice. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 5_000;

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freeLoopbackPort();
  let child: ChildProcess | null = null;
  let stopped = false;
  // If the test process dies without its afterAll, its redis-server must not outlive it.
  const killOnExit = () => child?.kill("SIGKILL");
  process.once("exit", killOnExit);

  const start = async () => {
    // A test that timed out may still try to bring it back after its file has stopped it.
    if (stopped) return;
    const started = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
      ],
      { stdio: "ignore" },
    );
    // No redis-server on the PATH: fail the start below rather than crash on the event.
    started.on("error", () => undefined);
    child = started;
    await waitUntilAccepting(port, started);
  };
  const kill = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, "exit");
    running.kill("SIGKILL");
    await exited;
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    async restart() {
      await kill();
      await start();
    },
    async ensureRunning() {
      if (!child || child.exitCode !== null || child.signalCode !== null) await start();
    },
    async stop() {
      stopped = true;
      await kill();
      process.removeListener("exit", killOnExit);
    },
  };
}

/** A port the kernel just handed out, so nothing listens there now. */
export async function freeLoopbackPort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, "close");
  return port;
}

/** Polls with PING over a raw socket until the server answers PONG (bounded). */
async function waitUntilAccepting(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.pid === undefined) {
      throw new Error(`redis-server on ${port} did not start (is redis-server installed?)`);
    }
    if (await answersPing(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill("SIGKILL");
  throw new Error(`redis-server on ${port} did not start within ${READY_TIMEOUT_MS} ms`);
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(data.toString().startsWith("+PONG")));
  });
}
