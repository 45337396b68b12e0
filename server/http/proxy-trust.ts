// No `import "server-only"`: server/env.ts parses TRUSTED_PROXIES with this (see ip-literal.ts).
import { isIP } from "node:net";
import { normalizeIp } from "./ip-literal";

/**
 * Which peers may tell the server who the client is (`TRUSTED_PROXIES`):
 * - nobody (the default): the socket's peer is the client, whatever headers say;
 * - ranges: a peer inside one of them is a proxy of ours, and so is each X-Forwarded-For hop
 *   inside one, read from the right;
 * - hops: exactly this many proxies stand in front, each appending its peer to the header.
 *   Right only when nothing can reach the server except through them.
 */
export type ProxyTrust =
  | { kind: "nobody" }
  | { kind: "ranges"; ranges: AddressRange[]; listed: string[] }
  | { kind: "hops"; hops: number };

/**
 * A CIDR range, compared in JavaScript rather than with node:net's BlockList (which builds a
 * native object per check): this runs on every claim that comes through a proxy. An IPv4
 * range is a 32-bit network and mask; an IPv6 one, 16-bit groups and a prefix length.
 */
type AddressRange =
  | { v6: false; network: number; mask: number }
  | { v6: true; groups: number[]; prefix: number };

export const TRUST_NOBODY: ProxyTrust = { kind: "nobody" };

const MAX_HOPS = 16;
const EXAMPLE = "for example 10.0.0.0/8,::1/128 or 127.0.0.1, or a hop count such as 1";

/** Parses TRUSTED_PROXIES; throws an Error whose message says what is wrong and what to write. */
export function parseProxyTrust(text: string | undefined): ProxyTrust {
  const value = text?.trim() ?? "";
  if (value === "") return TRUST_NOBODY;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops < 1 || hops > MAX_HOPS) {
      throw new Error(
        `a hop count must be 1 to ${MAX_HOPS} (the proxies in front of the server); unset it to trust nobody`,
      );
    }
    return { kind: "hops", hops };
  }
  const ranges: AddressRange[] = [];
  const listed: string[] = [];
  for (const entry of value.split(/[\s,]+/).filter(Boolean)) {
    const [address = "", prefix, extra] = entry.split("/");
    const normal = normalizeIp(address);
    const family = normal && isIP(normal) === 4 ? "ipv4" : "ipv6";
    const bits = family === "ipv4" ? 32 : 128;
    const length = prefix === undefined ? bits : /^\d{1,3}$/.test(prefix) ? Number(prefix) : -1;
    if (!normal || extra !== undefined || length < 0 || length > bits) {
      throw new Error(`"${entry}" is not an IP address or CIDR range (${EXAMPLE})`);
    }
    ranges.push(rangeOf(normal, length));
    listed.push(`${normal}/${length}`);
  }
  return { kind: "ranges", ranges, listed };
}

/** Whether the hop `depth` steps from the server (0: the socket's peer) is a proxy of ours. */
export function trustsHop(trust: ProxyTrust, address: string, depth: number): boolean {
  if (trust.kind === "nobody") return false;
  if (trust.kind === "hops") return depth < trust.hops;
  if (!address.includes(":")) {
    const value = ipv4Value(address);
    for (const range of trust.ranges) {
      if (!range.v6 && (value & range.mask) >>> 0 === range.network) return true;
    }
    return false;
  }
  const groups = ipv6Groups(address);
  return trust.ranges.some((range) => range.v6 && inPrefix(groups, range.groups, range.prefix));
}

function rangeOf(address: string, prefix: number): AddressRange {
  if (address.includes(":")) return { v6: true, groups: ipv6Groups(address), prefix };
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { v6: false, network: (ipv4Value(address) & mask) >>> 0, mask };
}

/** A normalized IPv4 address (dotted, valid) as an unsigned 32-bit number. */
function ipv4Value(address: string): number {
  let value = 0;
  let part = 0;
  for (let i = 0; i < address.length; i++) {
    const code = address.charCodeAt(i);
    if (code === 46) {
      value = value * 256 + part;
      part = 0;
    } else part = part * 10 + code - 48;
  }
  return value * 256 + part;
}

/** The eight 16-bit groups of a normalized IPv6 address. */
function ipv6Groups(address: string): number[] {
  const [head = "", tail] = address.split("::");
  const parse = (part: string) =>
    part ? part.split(":").map((hex) => Number.parseInt(hex, 16)) : [];
  const [left, right] = [parse(head), parse(tail ?? "")];
  const zeros = tail === undefined ? [] : Array(8 - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right];
}

function inPrefix(groups: number[], network: number[], prefix: number): boolean {
  for (let i = 0, bits = prefix; bits > 0; i++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if (((groups[i] ?? 0) & mask) !== ((network[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** How the trust reads in a log line. */
export function describeProxyTrust(trust: ProxyTrust): string {
  if (trust.kind === "nobody") return "no proxy trusted: the client is the socket's peer";
  if (trust.kind === "hops") return `${trust.hops} proxy hop(s) trusted in X-Forwarded-For`;
  return `proxies trusted in ${trust.listed.join(", ")}`;
}
