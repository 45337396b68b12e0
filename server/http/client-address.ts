import "server-only";
import { normalizeForwardedIp, normalizeIp } from "./ip-literal";
import { type ProxyTrust, trustsHop } from "./proxy-trust";

/**
 * A socket whose peer is gone has no address; its requests share this one (nothing is
 * answered to them anyway).
 */
const NO_PEER = "0.0.0.0";

/**
 * Past this many trusted hops the walk stops: a real chain of proxies is a few long, and a
 * header of thousands of trusted-looking entries is someone's attempt to make each request
 * cost more.
 */
const MAX_WALK = 32;

/**
 * The client's address, the one every rate limit and log line uses: the socket's peer, unless
 * that peer is a proxy of ours (`TRUSTED_PROXIES`); then X-Forwarded-For is read from the
 * right, each trusted hop naming the one before it, and the first hop not trusted is the
 * client. Only a trusted hop's word is taken: what a client writes in the header sits to the
 * left of what our proxies appended, and is never reached while they are trusted. An entry
 * that is not an IP literal ends the walk at the hop that passed it on. The answer is always a
 * normalized IP literal (see normalizeIp), never header text.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trust: ProxyTrust,
): string {
  let address = normalizeIp(peer) ?? NO_PEER;
  if (trust.kind === "nobody" || !trustsHop(trust, address, 0) || !forwardedFor) return address;
  // node:http joins repeated X-Forwarded-For headers with ", ", in the order received.
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor).split(",");
  for (let depth = 1; depth <= MAX_WALK; depth++) {
    const entry = hops[hops.length - depth];
    const named = entry === undefined ? null : normalizeForwardedIp(entry);
    if (!named) return address;
    address = named;
    if (!trustsHop(trust, address, depth)) return address;
  }
  return address;
}

/** Whether the socket's peer is one of our proxies, whose other X-Forwarded-* headers count. */
export function peerIsTrusted(peer: string | undefined, trust: ProxyTrust): boolean {
  return trust.kind !== "nobody" && trustsHop(trust, normalizeIp(peer) ?? NO_PEER, 0);
}
