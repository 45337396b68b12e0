import type { Point } from "./geo";

/**
 * Places a shopper can pick when the browser will not share its location. The first is the
 * demo city's centre, where the seeded deals are.
 */
export const PLACES: readonly (Point & { name: string })[] = [
  { name: "Amsterdam, Dam Square", lat: 52.3731, lng: 4.8922 },
  { name: "Amsterdam Centraal", lat: 52.3791, lng: 4.9003 },
  { name: "Amsterdam, Museumplein", lat: 52.3579, lng: 4.8812 },
  { name: "Rotterdam Centraal", lat: 51.925, lng: 4.4689 },
  { name: "Utrecht Centraal", lat: 52.0894, lng: 5.1102 },
];
