import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { boundingBox, destinationPoint, distanceKm } from "./geo";

describe("geo", () => {
  it("measures known distances", () => {
    const dam = { lat: 52.3731, lng: 4.8926 };
    const centraal = { lat: 52.3791, lng: 4.9003 };
    expect(distanceKm(dam, centraal)).toBeCloseTo(0.84, 1);
    expect(distanceKm({ lat: 52.37, lng: 4.89 }, { lat: 48.8566, lng: 2.3522 })).toBeCloseTo(
      430,
      -1,
    );
  });

  it("the bounding box holds every point within the radius (property)", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -80, max: 80, noNaN: true }),
        fc.double({ min: -170, max: 170, noNaN: true }),
        fc.double({ min: 0.1, max: 50, noNaN: true }),
        fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (lat, lng, radiusKm, bearing, fraction) => {
          // A point at distance < radius in some direction.
          const point = destinationPoint({ lat, lng }, radiusKm * fraction * 0.999, bearing);
          const box = boundingBox({ lat, lng }, radiusKm);
          expect(distanceKm({ lat, lng }, point)).toBeLessThanOrEqual(radiusKm);
          expect(point.lat).toBeGreaterThanOrEqual(box.minLat - 1e-9);
          expect(point.lat).toBeLessThanOrEqual(box.maxLat + 1e-9);
          expect(point.lng).toBeGreaterThanOrEqual(box.minLng - 1e-9);
          expect(point.lng).toBeLessThanOrEqual(box.maxLng + 1e-9);
        },
      ),
    );
  });
});
