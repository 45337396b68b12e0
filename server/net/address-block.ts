import "server-only";
import { isIPv6 } from "node:net";

/**
 * The block an address counts in: an IPv4 address itself (also when written IPv4-mapped,
 * `::ffff:a.b.c.d`), an IPv6 address's first 64 bits.
 */
export function addressBlock(address: string): string {
  // Most clients, and the check on every claim: no colon, no IPv6 to look at.
  if (!address.includes(":")) return address;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(":")}::/64`;
}

/** The eight groups of an IPv6 address, `::` filled in (a zone id such as `%eth0` dropped). */
function expandIPv6(address: string): string[] {
  const [head = "", tail] = address.split("%")[0]?.toLowerCase().split("::") ?? [];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const fill = Array.from({ length: 8 - left.length - right.length }, () => "0");
  return [...left, ...(tail === undefined ? [] : fill), ...right].map(
    (group) => group.replace(/^0+(?=.)/, "") || "0",
  );
}
