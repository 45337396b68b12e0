import "server-only";
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";
import { availableParallelism } from "node:os";
import { BoundedWork } from "./bounded-work";

/**
 * OWASP's minimum for scrypt (Password Storage Cheat Sheet): N=2^17, r=8, p=1, which needs
 * 128 MiB per hash. Memory-hard is what makes a GPU farm slow; scrypt ships with Node, so no
 * native addon has to build on the server. Hashes made with other parameters still verify
 * (they carry their own) and are made again at the next sign-in (`needsRehash`).
 */
export const PASSWORD_PARAMS = { N: 2 ** 17, r: 8, p: 1 } as const;
/** Room for the cost above and nothing far beyond it: a stored hash cannot ask for more. */
const MAX_MEMORY = 192 * 1024 * 1024;
const KEY_LENGTH = 32;

export type Derive = (password: string, salt: Buffer, params: ScryptOptions) => Promise<Buffer>;

const scryptDerive: Derive = (password, salt, params) =>
  new Promise((resolve, reject) => {
    scrypt(password.normalize("NFKC"), salt, KEY_LENGTH, params, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });

/**
 * Hashes and checks passwords a few at a time. scrypt runs on libuv's thread pool, which
 * file reads and DNS look-ups share: 120 sign-ins at once held every thread, and a real
 * sign-in waited 11.5 s. At most `inFlight` hashes run; `waiting` more queue; past that the
 * caller is told to come back (429 with a delay) at once, before any work is done.
 */
export class PasswordHasher {
  private readonly work: BoundedWork;

  constructor(
    options: { inFlight: number; waiting: number },
    private readonly derive: Derive = scryptDerive,
  ) {
    this.work = new BoundedWork({
      ...options,
      busyMessage: "The server is checking too many passwords at once: try again in a moment.",
    });
  }

  /** Encodes as `scrypt$N$r$p$salt$hash` (base64url) so parameters can change later. */
  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const { N, r, p } = PASSWORD_PARAMS;
    const key = await this.work.run(() =>
      this.derive(password, salt, { N, r, p, maxmem: MAX_MEMORY }),
    );
    return ["scrypt", N, r, p, salt.toString("base64url"), key.toString("base64url")].join("$");
  }

  async verify(password: string, encoded: string): Promise<boolean> {
    const params = paramsOf(encoded);
    if (!params) return false;
    const expected = Buffer.from(params.hash, "base64url");
    const actual = await this.work.run(() =>
      this.derive(password, Buffer.from(params.salt, "base64url"), {
        N: params.N,
        r: params.r,
        p: params.p,
        maxmem: MAX_MEMORY,
      }),
    );
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
}

/**
 * A hash of no password, with today's parameters: checked against when an email is unknown,
 * so that a wrong email and a wrong password take the same time and the answer does not
 * reveal which accounts exist. Random bytes stand in for the key, so no scrypt runs to make it.
 */
export const DECOY_HASH = [
  "scrypt",
  PASSWORD_PARAMS.N,
  PASSWORD_PARAMS.r,
  PASSWORD_PARAMS.p,
  randomBytes(16).toString("base64url"),
  randomBytes(KEY_LENGTH).toString("base64url"),
].join("$");

/** Whether a stored hash was made with weaker parameters than today's, so should be made again. */
export function needsRehash(encoded: string): boolean {
  const params = paramsOf(encoded);
  return (
    !params ||
    params.N < PASSWORD_PARAMS.N ||
    params.r < PASSWORD_PARAMS.r ||
    params.p < PASSWORD_PARAMS.p
  );
}

function paramsOf(encoded: string) {
  const [scheme, n, r, p, salt, hash] = encoded.split("$");
  if (scheme !== "scrypt" || !salt || !hash) return null;
  const [N, R, P] = [Number(n), Number(r), Number(p)];
  if (![N, R, P].every(Number.isSafeInteger) || 128 * N * R > MAX_MEMORY) return null;
  return { N, r: R, p: P, salt, hash };
}

/**
 * One per process, as the thread pool is: one thread is left for everything else
 * (UV_THREADPOOL_SIZE, 4 by default), and no more run than there are cores.
 */
const threads = Number(process.env.UV_THREADPOOL_SIZE) || 4;
const inFlight = Math.max(1, Math.min(availableParallelism(), threads - 1));
export const passwords = new PasswordHasher({ inFlight, waiting: 8 * inFlight });

export const hashPassword = (password: string) => passwords.hash(password);
export const verifyPassword = (password: string, encoded: string) =>
  passwords.verify(password, encoded);
