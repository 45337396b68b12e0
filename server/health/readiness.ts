import "server-only";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { sql } from "drizzle-orm";
import { type Db, MIGRATIONS_FOLDER, rowsOf } from "@/db/client";
import type { HealthCheck, Readiness, ReadinessCheckName } from "@/lib/ops/health-answers";
import { log } from "../log";
import type { RedisClient } from "../redis/client";
import type { SigningKeyStore } from "../vouchers/signing-keys";

/** A dependency that does not answer within this is counted down: a probe must answer fast. */
const CHECK_TIMEOUT_MS = 2_000;

const TIMED_OUT = Symbol("timed out");

/**
 * Whether this process can serve: Postgres answers, Redis answers (when configured), the
 * database has every migration this build knows, and the voucher signing key unseals. Each
 * check runs on every probe but the migrations, which once applied stay applied.
 */
export class ReadinessCheck {
  private migrationsApplied = false;

  constructor(
    private readonly parts: {
      db: Db;
      redis: RedisClient | null;
      signingKeys: Pick<SigningKeyStore, "signingKey">;
    },
  ) {}

  async check(): Promise<Readiness> {
    const named: [ReadinessCheckName, () => Promise<unknown>][] = [
      ["postgres", () => this.parts.db.execute(sql`SELECT 1`)],
      ["migrations", () => this.checkMigrations()],
      ["signingKey", () => this.parts.signingKeys.signingKey()],
    ];
    const { redis } = this.parts;
    if (redis) named.push(["redis", () => redis.ping()]);
    const results = await Promise.all(
      named.map(async ([name, run]) => [name, await probe(name, run)] as const),
    );
    const checks = Object.fromEntries(results) as Readiness["checks"];
    const ready = results.every(([, result]) => result.ok);
    return { status: ready ? "ready" : "unready", checks };
  }

  private async checkMigrations(): Promise<void> {
    if (this.migrationsApplied) return;
    const expected = await lastMigrationOfThisBuild();
    const [row] = rowsOf<{ last: string | null }>(
      await this.parts.db.execute(
        sql`SELECT max(created_at)::text AS last FROM drizzle.__drizzle_migrations`,
      ),
    );
    if (Number(row?.last ?? 0) < expected.when) {
      throw new NotReady(`migration ${expected.tag} is not applied`);
    }
    this.migrationsApplied = true;
  }
}

/** A check's failure that says plainly what is wrong; any other error is described by kind. */
class NotReady extends Error {}

const PROBLEM_OF: Record<ReadinessCheckName, string> = {
  postgres: "Postgres does not answer",
  redis: "Redis does not answer",
  migrations: "the migrations could not be read",
  signingKey: "the voucher signing key cannot be used",
};

async function probe(name: ReadinessCheckName, run: () => Promise<unknown>): Promise<HealthCheck> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), CHECK_TIMEOUT_MS);
  });
  try {
    const outcome = await Promise.race([run(), timeout]);
    if (outcome === TIMED_OUT) {
      return { ok: false, problem: `${PROBLEM_OF[name]} within ${CHECK_TIMEOUT_MS} ms` };
    }
    return { ok: true };
  } catch (error) {
    if (error instanceof NotReady) return { ok: false, problem: error.message };
    log.warn({ err: error, check: name }, "readiness check failed");
    return { ok: false, problem: PROBLEM_OF[name] };
  } finally {
    clearTimeout(timer);
  }
}

/** The newest entry of drizzle-kit's journal shipped with this build. */
async function lastMigrationOfThisBuild(): Promise<{ tag: string; when: number }> {
  const journal = JSON.parse(
    await readFile(path.join(MIGRATIONS_FOLDER, "meta", "_journal.json"), "utf8"),
  ) as { entries: { tag: string; when: number }[] };
  const last = journal.entries.at(-1);
  if (!last) throw new NotReady("this build has no migrations");
  return last;
}
