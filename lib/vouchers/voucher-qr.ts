import { base64url } from "jose";
import { VOUCHER_ALG, VOUCHER_TYP, type VoucherPayload } from "./voucher-format";

/**
 * How a voucher travels in a QR code. The compact JWS is about 370 characters: QR version 15
 * at error correction M, slow to scan. But every byte of its header and payload JSON follows
 * from a few fields, so the code carries only those fields and the signature, packed as
 * binary and written in base32, which QR's alphanumeric mode stores at 5.5 bits a character:
 * about 250 characters, version 9. The scanner rebuilds the exact JWS and verifies that, so
 * the packing adds no trust: a rebuilt token that differs by one byte fails its signature.
 *
 * Layout (153 bytes): kid (32, the thumbprint) | jti d m (12 ASCII each) | sub (9) |
 * iat nbf exp (uint32 each) | signature (64).
 */
export const VOUCHER_QR_PREFIX = "DV1:";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const ID = /^[0-9A-Za-z]{12}$/;
const PACKED_LENGTH = 32 + 36 + 9 + 12 + 64;

/** The text to put in a voucher's QR code; throws for a token not in the issuer's exact form. */
export function voucherQrText(token: string): string {
  const [headerPart, payloadPart, signaturePart] = token.split(".");
  const header = JSON.parse(utf8(base64url.decode(headerPart ?? ""))) as Record<string, unknown>;
  const payload = JSON.parse(utf8(base64url.decode(payloadPart ?? ""))) as VoucherPayload;
  const kid = String(header.kid);
  const bytes = new Uint8Array(PACKED_LENGTH);
  const view = new DataView(bytes.buffer);
  let at = 0;
  const put = (part: Uint8Array, length: number) => {
    if (part.length !== length) throw new Error("voucher field of unexpected length");
    bytes.set(part, at);
    at += length;
  };
  put(base64url.decode(kid), 32);
  for (const id of [payload.jti, payload.d, payload.m]) {
    if (!ID.test(id)) throw new Error("voucher id of unexpected form");
    put(new TextEncoder().encode(id), 12);
  }
  put(base64url.decode(payload.sub), 9);
  for (const seconds of [payload.iat, payload.nbf, payload.exp]) {
    view.setUint32(at, seconds);
    at += 4;
  }
  put(base64url.decode(signaturePart ?? ""), 64);
  const text = VOUCHER_QR_PREFIX + toBase32(bytes);
  if (tokenFromScan(text) !== token)
    throw new Error("token is not in the form the QR packing rebuilds");
  return text;
}

/**
 * The voucher token in what a scanner read or a person pasted: a packed QR text is rebuilt
 * into its JWS; anything else is passed on as typed, for the verifier to judge.
 */
export function tokenFromScan(text: string): string {
  const trimmed = text.trim();
  if (!trimmed.toUpperCase().startsWith(VOUCHER_QR_PREFIX)) return trimmed;
  const bytes = fromBase32(trimmed.slice(VOUCHER_QR_PREFIX.length).toUpperCase());
  if (!bytes || bytes.length !== PACKED_LENGTH) return trimmed;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const take = (length: number) => {
    const part = bytes.subarray(at, at + length);
    at += length;
    return part;
  };
  const kid = base64url.encode(take(32));
  const [jti, d, m] = [take(12), take(12), take(12)].map((part) => utf8(part));
  const sub = base64url.encode(take(9));
  const [iat, nbf, exp] = [0, 1, 2].map(() => {
    const seconds = view.getUint32(at);
    at += 4;
    return seconds;
  });
  const signature = base64url.encode(take(64));
  const header = { alg: VOUCHER_ALG, kid, typ: VOUCHER_TYP };
  const payload = { jti, d, m, sub, iat, nbf, exp };
  return `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}.${signature}`;
}

function utf8(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

function toBase32(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

function fromBase32(text: string): Uint8Array | null {
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of text) {
    const value = BASE32.indexOf(char);
    if (value < 0) return null;
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}
