import { BlockList, isIP } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { headerText } from "@/testing/forged-credentials";
import { parseEnv } from "../env";
import { clientAddress } from "./client-address";
import { normalizeIp } from "./ip-literal";
import { parseProxyTrust, TRUST_NOBODY, trustsHop } from "./proxy-trust";

const proxies = parseProxyTrust("10.0.0.0/8, 2001:db8:a::/48, 127.0.0.1");

describe("the client's address", () => {
  it("is the socket's peer when no proxy is trusted, whatever X-Forwarded-For says", () => {
    for (const forwarded of ["203.0.113.9", "203.0.113.9, 10.0.0.2", "unknown", undefined]) {
      expect(clientAddress("198.51.100.7", forwarded, TRUST_NOBODY)).toBe("198.51.100.7");
    }
    // The default configuration trusts nobody.
    expect(parseEnv({}).TRUSTED_PROXIES).toEqual(TRUST_NOBODY);
  });

  it("is the peer's when the peer is not one of the listed proxies", () => {
    expect(clientAddress("198.51.100.7", "203.0.113.9", proxies)).toBe("198.51.100.7");
    expect(clientAddress("11.0.0.1", "203.0.113.9", proxies)).toBe("11.0.0.1");
  });

  it("walks X-Forwarded-For from the right past trusted proxies, to the first hop not trusted", () => {
    // A client wrote its own entry first; our two proxies appended theirs.
    const header = "1.1.1.1, 203.0.113.9, 10.0.0.5";
    expect(clientAddress("10.0.0.1", header, proxies)).toBe("203.0.113.9");
    expect(clientAddress("10.0.0.1", ["1.1.1.1, 203.0.113.9", "10.0.0.5"], proxies)).toBe(
      "203.0.113.9",
    );
    expect(clientAddress("127.0.0.1", "2001:db8:a::9, 2001:DB8:B::1", proxies)).toBe(
      "2001:db8:b::1",
    );
    // Every hop trusted: the furthest one named is the client.
    expect(clientAddress("10.0.0.1", "10.0.0.9, 10.0.0.5", proxies)).toBe("10.0.0.9");
    // A trusted proxy with no header: the proxy itself is all that is known.
    expect(clientAddress("10.0.0.1", undefined, proxies)).toBe("10.0.0.1");
  });

  it("with a hop count, takes that many hops from the right, however the client pads the header", () => {
    const two = parseProxyTrust("2");
    expect(clientAddress("192.0.2.1", "6.6.6.6, 203.0.113.9, 192.0.2.2", two)).toBe("203.0.113.9");
    expect(clientAddress("192.0.2.1", "203.0.113.9", parseProxyTrust("1"))).toBe("203.0.113.9");
    expect(clientAddress("192.0.2.1", "203.0.113.9", two)).toBe("203.0.113.9");
  });

  it("is always a normalized IP literal: mapped IPv4, IPv6 spellings, ports; garbage ends the walk", () => {
    expect(clientAddress("::ffff:127.0.0.1", undefined, TRUST_NOBODY)).toBe("127.0.0.1");
    expect(clientAddress("::FFFF:7f00:1", undefined, TRUST_NOBODY)).toBe("127.0.0.1");
    expect(clientAddress("2001:DB8:0:0:0:0:0:1", undefined, TRUST_NOBODY)).toBe("2001:db8::1");
    expect(clientAddress("fe80::1%eth0", undefined, TRUST_NOBODY)).toBe("fe80::1");
    expect(clientAddress("::ffff:10.0.0.1", "[2001:db8::7]:443", proxies)).toBe("2001:db8::7");
    expect(clientAddress("10.0.0.1", "203.0.113.9:5000", proxies)).toBe("203.0.113.9");
    for (const garbage of ["unknown", "", "1.2.3", "{deal:x}:rl", "01.2.3.4", "::ffff:999.1.1.1"]) {
      expect(clientAddress("10.0.0.1", `203.0.113.9, ${garbage}`, proxies)).toBe("10.0.0.1");
    }
    expect(clientAddress(undefined, "203.0.113.9", proxies)).toBe("0.0.0.0");
  });

  it("fuzzed: any header from any peer gives an IP literal in its one spelling", () => {
    const header = fc.array(fc.oneof(headerText, fc.ipV4(), fc.ipV6()), { maxLength: 6 });
    const peers = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom("10.0.0.1", "::ffff:10.0.0.1"));
    const trusts = fc.constantFrom(TRUST_NOBODY, proxies, parseProxyTrust("3"));
    fc.assert(
      fc.property(peers, header, trusts, (peer, entries, trust) => {
        const address = clientAddress(peer, entries.join(","), trust);
        expect(normalizeIp(address)).toBe(address);
        expect(address.length).toBeLessThanOrEqual(39);
      }),
    );
  });
});

describe("a trusted range", () => {
  it("holds exactly the addresses node:net's BlockList puts in it, both families, any prefix", () => {
    // IPv4-mapped IPv6 addresses are IPv4 ones here (normalizeIp), and tested above.
    const unmapped = fc.ipV6().filter((address) => isIP(normalizeIp(address) ?? "") === 6);
    const v4 = fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 }));
    const v6 = fc.tuple(unmapped, fc.integer({ min: 0, max: 128 }));
    const near = (address: string) =>
      fc.oneof(fc.constant(address), isIP(address) === 4 ? fc.ipV4() : unmapped);
    const cases = fc
      .oneof(v4, v6)
      .chain(([net, prefix]) => fc.tuple(fc.constant(net), fc.constant(prefix), near(net)));
    fc.assert(
      fc.property(cases, ([net, prefix, candidate]) => {
        const address = normalizeIp(candidate) as string;
        const family = isIP(address) === 4 ? "ipv4" : "ipv6";
        const oracle = new BlockList();
        oracle.addSubnet(
          normalizeIp(net) as string,
          prefix,
          isIP(normalizeIp(net) as string) === 4 ? "ipv4" : "ipv6",
        );
        const trust = parseProxyTrust(`${net}/${prefix}`);
        expect(trustsHop(trust, address, 0)).toBe(oracle.check(address, family));
      }),
      { numRuns: 2_000 },
    );
    const rfc1918 = parseProxyTrust("172.16.0.0/12");
    expect(
      ["172.16.0.1", "172.31.255.255", "172.32.0.0", "172.15.255.255"].map((a) =>
        trustsHop(rfc1918, a, 0),
      ),
    ).toEqual([true, true, false, false]);
  });
});

describe("TRUSTED_PROXIES", () => {
  const problem = (value: string) => {
    try {
      parseEnv({ TRUSTED_PROXIES: value });
      return null;
    } catch (error) {
      return (error as Error).message;
    }
  };

  it("takes addresses and CIDR ranges of both families, or a hop count", () => {
    expect(
      parseEnv({ TRUSTED_PROXIES: " 10.0.0.0/8,::1 192.168.1.4/32" }).TRUSTED_PROXIES,
    ).toMatchObject({
      kind: "ranges",
      listed: ["10.0.0.0/8", "::1/128", "192.168.1.4/32"],
    });
    expect(parseEnv({ TRUSTED_PROXIES: "2" }).TRUSTED_PROXIES).toEqual({ kind: "hops", hops: 2 });
    expect(parseEnv({ TRUSTED_PROXIES: "" }).TRUSTED_PROXIES).toEqual(TRUST_NOBODY);
  });

  it("names a bad value and says what to write", () => {
    for (const bad of ["10.0.0.0/33", "proxy.internal", "10.0.0.0/8/1", "::1/129", "10.0.0/8"]) {
      expect(problem(`127.0.0.1, ${bad}`)).toContain(
        `TRUSTED_PROXIES: "${bad}" is not an IP address or CIDR range (for example 10.0.0.0/8`,
      );
    }
    expect(problem("0")).toContain("TRUSTED_PROXIES: a hop count must be 1 to 16");
    expect(problem("99")).toContain("TRUSTED_PROXIES: a hop count must be 1 to 16");
  });
});
