import "server-only";
import { kmPerDegreeOfLatitude, type Point } from "@/lib/geo";

/**
 * The radii a `deals.near` cache entry is built for. A request is served from the first one at
 * least as wide as it asked, so any radius costs one of these entries: the steps at most
 * double, and the candidates gathered at most quadruple the area asked about.
 */
export const RADIUS_STEPS_KM = [0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 40, 50] as const;
/** A cell's side, as a share of its radius step: wider searches share wider cells. */
const CELL_SHARE = 0.1;

/** The cache entry a `deals.near` request is answered from. */
export interface NearCell {
  key: string;
  center: Point;
  /** How far from `center` the entry's candidates reach. */
  loadRadiusKm: number;
}

/**
 * Where a search for deals within `radiusKm` of `point` looks, so that the cache's key space is
 * finite whatever an anonymous caller sends: the radius goes up to the next step and the point
 * snaps to a grid whose side is a tenth of that step (latitude and longitude both in steps of
 * the same number of degrees, so a cell is at most `side` km across each way, narrower towards
 * the poles).
 *
 * Honest by construction: the snapped centre is at most half a side from the point in each
 * direction, so within side·√2/2 of it; by the triangle inequality every deal within the asked
 * radius of the point is within step + side·√2/2 of the centre, and the entry gathers
 * candidates out to step + side. The caller then keeps the candidates within the exact radius
 * of the exact point, so a shopper sees exactly the deals in their circle, no more, no fewer.
 */
export function nearCell(point: Point, radiusKm: number): NearCell {
  const stepKm = RADIUS_STEPS_KM.find((step) => step >= radiusKm);
  // The input schema stops at the widest step; a wider circle here would be a bug upstream.
  if (stepKm === undefined) throw new RangeError(`no cache step covers ${radiusKm} km`);
  const sideKm = stepKm * CELL_SHARE;
  const sideDegrees = sideKm / kmPerDegreeOfLatitude;
  const row = Math.round(point.lat / sideDegrees);
  const column = Math.round(point.lng / sideDegrees);
  return {
    key: `near:${stepKm}:${row}:${column}`,
    center: {
      lat: Math.min(90, Math.max(-90, row * sideDegrees)),
      lng: column * sideDegrees,
    },
    loadRadiusKm: stepKm + sideKm,
  };
}
