// No `import "server-only"`: server/env.ts reads TRUSTED_PROXIES through this, and
// next.config.ts loads env.ts outside the react-server condition, where it would throw.
import { isIP } from "node:net";

/** The dotted IPv4 address inside an IPv4-mapped IPv6 one, as a dual-stack socket reports it. */
const MAPPED_DOTTED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;
/** The same, after canonical formatting turned its last 32 bits into two hex groups. */
const MAPPED_HEX = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/**
 * One spelling per address: IPv4 dotted, IPv6 in its canonical form (RFC 5952: lower case,
 * longest run of zeros compressed, no zone), an IPv4-mapped IPv6 address as its IPv4 one.
 * Anything that is not an IP literal is null: no header text ever passes for an address.
 */
export function normalizeIp(text: string | undefined): string | null {
  if (!text) return null;
  // First, the form a dual-stack socket reports every IPv4 peer in.
  const mapped = MAPPED_DOTTED.exec(text)?.[1];
  if (mapped) return isIP(mapped) === 4 ? mapped : null;
  const family = isIP(text);
  if (family === 4) return text;
  if (family !== 6) return null;
  const zone = text.indexOf("%");
  // The URL parser writes IPv6 hosts in the canonical form.
  const canonical = new URL(`http://[${zone < 0 ? text : text.slice(0, zone)}]`).hostname.slice(
    1,
    -1,
  );
  const hex = MAPPED_HEX.exec(canonical);
  if (!hex) return canonical;
  const high = Number.parseInt(hex[1] ?? "0", 16);
  const low = Number.parseInt(hex[2] ?? "0", 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}

/** An address as a proxy may write it in X-Forwarded-For: bare, `[v6]`, `[v6]:port`, `v4:port`. */
export function normalizeForwardedIp(entry: string): string | null {
  const text = entry.trim();
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    const rest = text.slice(end + 1);
    if (end < 0 || !(rest === "" || /^:\d{1,5}$/.test(rest))) return null;
    return isIP(text.slice(1, end)) === 6 ? normalizeIp(text.slice(1, end)) : null;
  }
  const colon = text.indexOf(":");
  if (colon > 0 && colon === text.lastIndexOf(":") && /^\d{1,5}$/.test(text.slice(colon + 1))) {
    return isIP(text.slice(0, colon)) === 4 ? text.slice(0, colon) : null;
  }
  return normalizeIp(text);
}
