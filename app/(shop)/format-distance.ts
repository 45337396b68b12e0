/** How far a shop is, as a shopper reads it: metres to the nearest ten, else kilometres. */
export function formatDistance(km: number) {
  return km < 1 ? `${Math.round((km * 1_000) / 10) * 10} m away` : `${km.toFixed(1)} km away`;
}

/** A plain maps address that opens directions to a point in the phone's maps app or a browser. */
export function directionsHref(point: { lat: number; lng: number }) {
  return `https://www.google.com/maps/dir/?api=1&destination=${point.lat},${point.lng}`;
}
