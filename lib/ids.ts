import { z } from "zod";

const ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
export const ID_LENGTH = 12;

/** Random bytes drawn from WebCrypto a few kilobytes at a time: one call per id was a hot spot. */
const pool = new Uint8Array(ID_LENGTH * 512);
let used = pool.length;

/**
 * A short random id (12 characters of base 58, about 70 bits). Short ids keep voucher
 * tokens, and so their QR codes, small. Uses WebCrypto, so it runs in browsers too.
 */
export function newId(): string {
  if (used === pool.length) {
    crypto.getRandomValues(pool);
    used = 0;
  }
  let id = "";
  for (let i = used; i < used + ID_LENGTH; i++) id += ALPHABET[(pool[i] ?? 0) % ALPHABET.length];
  used += ID_LENGTH;
  return id;
}

export const idSchema = z
  .string({ error: "must be a string id" })
  .regex(/^[0-9A-Za-z]{12}$/, `must be a ${ID_LENGTH}-character id`);
