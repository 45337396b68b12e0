import "server-only";
import { createHash } from "node:crypto";

/**
 * What a rate-limit counter is stored under: a 22-character digest (132 bits of SHA-256) of
 * its name, however long the name. Names hold what requests bring (an address, an email), so
 * unhashed they would let a request decide how much Redis or memory its counter takes.
 */
export function boundedKey(name: string): string {
  return createHash("sha256").update(name).digest("base64url").slice(0, 22);
}
