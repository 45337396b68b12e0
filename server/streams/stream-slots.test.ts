import { describe, expect, it } from "vitest";
import { addressBlock } from "../net/address-block";
import { StreamSlots } from "./stream-slots";

describe("stream places", () => {
  it("counts an IPv6 client per /64 and an IPv4-mapped address as IPv4", () => {
    expect(addressBlock("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressBlock("2001:0db8:0001:0002:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(addressBlock("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressBlock("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(addressBlock("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(addressBlock("192.0.2.7")).toBe("192.0.2.7");
  });

  it("a /64 shares one allowance however many addresses it rotates through", () => {
    const slots = new StreamSlots({ perAddress: 3, perAccount: 10 });
    for (let i = 1; i <= 3; i++) slots.take({ address: `2001:db8:1:2::${i.toString(16)}` });
    expect(() => slots.take({ address: "2001:db8:1:2::ffff" })).toThrow(/this address/);
    expect(() => slots.take({ address: "2001:db8:1:3::1" })).not.toThrow();
  });

  it("a place released twice is freed once, and nothing is kept for a holder with none open", () => {
    const slots = new StreamSlots({ perAddress: 2, perAccount: 1 });
    const holder = { address: "192.0.2.1", accountId: "u1" };
    const slot = slots.take(holder);
    expect(() => slots.take(holder)).toThrow(/this account/);
    const other = slots.take({ address: "192.0.2.1" });
    slot.release();
    slot.release();
    expect(slots.held(holder)).toEqual({ address: 1, account: 0 });
    other.release();
    expect(slots.held(holder)).toEqual({ address: 0, account: 0 });
  });
});
