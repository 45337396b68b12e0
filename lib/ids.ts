import { z } from "zod";

const ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
export const ID_LENGTH = 12;

/**
 * A short random id (12 characters of base 58, about 70 bits). Short ids keep voucher
 * tokens, and so their QR codes, small. Uses WebCrypto, so it runs in browsers too.
 */
export function newId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(ID_LENGTH));
  let id = "";
  for (const byte of bytes) id += ALPHABET[byte % ALPHABET.length];
  return id;
}

export const idSchema = z
  .string({ error: "must be a string id" })
  .regex(/^[0-9A-Za-z]{12}$/, `must be a ${ID_LENGTH}-character id`);
