import { execFile, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";
import { freePort } from "./processes";

const run = promisify(execFile);
/** The longest a replica may outlive its test, should the test die before stopping it. */
const MAX_LIFETIME_S = 600;

/** Debian's server binaries (pg_basebackup, pg_ctl) are not on PATH. */
function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const bin = versions.map((v) => path.join(root, v, "bin")).find((dir) => existsSync(dir));
  if (!bin)
    throw new Error(
      "no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)",
    );
  return bin;
}

export interface StreamingReplica {
  url(database: string): string;
  /** A superuser connection to the replica (pause and resume replay, pg_stat_activity). */
  sql: postgres.Sql;
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Stops the replica's server (immediate), leaving its folder for `start` again. */
  halt(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real streaming replica of the test Postgres on a free loopback port: `pg_basebackup -R`
 * into a temporary folder, then a second cluster started on it with pg_ctl (as the postgres
 * user when the tests run as root: the server refuses to run as root). It replicates without
 * a slot, so a replica that dies holds no WAL back on the shared primary. A watchdog stops it
 * and removes its folder when the test process is gone or after ten minutes, whichever first.
 * Needs `host replication all 127.0.0.1/32 trust` on the primary (.ci/run adds it).
 */
export async function startStreamingReplica(primary: {
  host: string;
  port: number;
}): Promise<StreamingReplica> {
  const bin = postgresBin();
  const dir = await mkdtemp(path.join(os.tmpdir(), "dealdrop-replica-"));
  const data = path.join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? await postgresUser() : undefined;
  if (owner) await chown(dir, owner.uid, owner.gid);
  const as = owner ? { uid: owner.uid, gid: owner.gid } : {};
  const port = await freePort();
  const pgCtl = (...args: string[]) =>
    run(path.join(bin, "pg_ctl"), ["-D", data, ...args], { ...as, timeout: 90_000 });

  try {
    await run(
      path.join(bin, "pg_basebackup"),
      ["-h", primary.host, "-p", String(primary.port), "-U", "postgres", "-D", data, "-R"].concat([
        "-X",
        "stream",
        "-c",
        "fast",
        "--no-sync",
      ]),
      { ...as, timeout: 120_000 },
    );
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    const { stderr = "" } = error as { stderr?: string };
    throw new Error(
      `pg_basebackup failed${stderr.includes("pg_hba.conf") ? " (add `host replication all 127.0.0.1/32 trust` to the primary's pg_hba.conf: .ci/run does)" : ""}: ${stderr}`,
    );
  }
  // Debian keeps the primary's configuration in /etc: the copy gets one of its own.
  const limits = await primaryLimits(primary);
  const conf = [
    `port = ${port}`,
    "listen_addresses = '127.0.0.1'",
    `unix_socket_directories = '${dir}'`,
    "hot_standby = on",
    "shared_buffers = 16MB",
    "fsync = off",
    ...Object.entries(limits).map(([name, value]) => `${name} = ${value}`),
  ];
  await writeFile(path.join(data, "postgresql.conf"), `${conf.join("\n")}\n`);
  await writeFile(
    path.join(data, "pg_hba.conf"),
    "local all all trust\nhost all all 127.0.0.1/32 trust\n",
  );
  await writeFile(path.join(data, "pg_ident.conf"), "");
  if (owner) {
    for (const file of ["postgresql.conf", "pg_hba.conf", "pg_ident.conf"]) {
      await chown(path.join(data, file), owner.uid, owner.gid);
    }
  }
  const watchdog = spawn(
    "sh",
    [
      "-c",
      `end=$(( $(date +%s) + ${MAX_LIFETIME_S} )); while kill -0 ${process.pid} 2>/dev/null && [ $(date +%s) -lt $end ]; do sleep 1; done; ` +
        `${owner ? `su postgres -s /bin/sh -c '${bin}/pg_ctl -D ${data} -m immediate stop'` : `${bin}/pg_ctl -D ${data} -m immediate stop`} >/dev/null 2>&1; rm -rf ${dir}`,
    ],
    { detached: true, stdio: "ignore" },
  );
  watchdog.unref();

  const start = async () => {
    await pgCtl("-l", path.join(dir, "server.log"), "-w", "-t", "60", "start");
  };
  await start();
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const sql = postgres(url("postgres"), { max: 1, onnotice: () => {}, connect_timeout: 5 });
  const halt = async () => {
    await pgCtl("-m", "immediate", "-w", "stop").catch(() => undefined);
  };
  return {
    url,
    sql,
    async pauseReplay() {
      await sql`SELECT pg_wal_replay_pause()`;
    },
    async resumeReplay() {
      await sql`SELECT pg_wal_replay_resume()`;
    },
    halt,
    start,
    async stop() {
      await sql.end({ timeout: 1 });
      await halt();
      watchdog.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([
    run("id", ["-u", "postgres"]),
    run("id", ["-g", "postgres"]),
  ]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** A hot standby refuses to start with any of these below the primary's. */
async function primaryLimits(primary: { host: string; port: number }) {
  const sql = postgres(`postgres://postgres@${primary.host}:${primary.port}/postgres`, {
    max: 1,
    onnotice: () => {},
  });
  try {
    const names = [
      "max_connections",
      "max_worker_processes",
      "max_wal_senders",
      "max_prepared_transactions",
      "max_locks_per_transaction",
    ];
    const rows = await sql<{ name: string; setting: string }[]>`
      SELECT name, setting FROM pg_settings WHERE name IN ${sql(names)}`;
    return Object.fromEntries(rows.map((row) => [row.name, row.setting]));
  } finally {
    await sql.end({ timeout: 1 });
  }
}
