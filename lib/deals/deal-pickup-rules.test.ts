import { describe, expect, it } from "vitest";
import { createDealInputSchema, dealWindowProblems, withDealDefaults } from "./deal-rules";

const HOUR = 3_600_000;
const start = new Date("2026-12-04T10:00:00Z");
const deal = withDealDefaults({
  title: "Pickup test",
  description: "",
  priceCents: 0,
  originalPriceCents: null,
  quantity: 5,
  startsAt: start,
  endsAt: new Date(start.getTime() + HOUR),
  voucherValidUntil: new Date(start.getTime() + 24 * HOUR),
  location: { lat: 52.37, lng: 4.89 },
  geofenceRadiusM: null,
});
const at = (hours: number) => new Date(start.getTime() + hours * HOUR);

describe("a deal's pickup window", () => {
  it("is optional, and a caller that leaves the deal page's details out gets empty ones", () => {
    expect(deal).toMatchObject({ finePrint: "", pickupStartsAt: null, pickupEndsAt: null });
    expect(dealWindowProblems(deal)).toEqual({});
  });

  it("needs both ends, the end after the start, and ends while vouchers are valid", () => {
    expect(dealWindowProblems({ ...deal, pickupStartsAt: at(2) })).toEqual({
      pickupEndsAt: ["give both ends of the pickup window"],
    });
    expect(dealWindowProblems({ ...deal, pickupStartsAt: at(3), pickupEndsAt: at(2) })).toEqual({
      pickupEndsAt: ["pickup must end after it starts"],
    });
    expect(dealWindowProblems({ ...deal, pickupStartsAt: at(2), pickupEndsAt: at(30) })).toEqual({
      pickupEndsAt: ["pickup must end while vouchers are still valid"],
    });
    expect(dealWindowProblems({ ...deal, pickupStartsAt: at(2), pickupEndsAt: at(4) })).toEqual({});
  });

  it("is refused by the API's schema with the field it belongs to", () => {
    const result = createDealInputSchema.safeParse({ ...deal, pickupEndsAt: at(4) });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join("."))).toEqual(["pickupStartsAt"]);
  });
});
