// No `import "server-only"`: server/env.ts parses TRUSTED_PROXIES with this (see ip-literal.ts).
import { BlockList, isIP } from "node:net";
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
  | { kind: "ranges"; ranges: BlockList; listed: string[] }
  | { kind: "hops"; hops: number };

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
  const ranges = new BlockList();
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
    ranges.addSubnet(normal, length, family);
    listed.push(`${normal}/${length}`);
  }
  return { kind: "ranges", ranges, listed };
}

/** Whether the hop `depth` steps from the server (0: the socket's peer) is a proxy of ours. */
export function trustsHop(trust: ProxyTrust, address: string, depth: number): boolean {
  if (trust.kind === "nobody") return false;
  if (trust.kind === "hops") return depth < trust.hops;
  return trust.ranges.check(address, isIP(address) === 4 ? "ipv4" : "ipv6");
}

/** How the trust reads in a log line. */
export function describeProxyTrust(trust: ProxyTrust): string {
  if (trust.kind === "nobody") return "no proxy trusted: the client is the socket's peer";
  if (trust.kind === "hops") return `${trust.hops} proxy hop(s) trusted in X-Forwarded-For`;
  return `proxies trusted in ${trust.listed.join(", ")}`;
}
