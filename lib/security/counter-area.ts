/**
 * The counter app's part of the site, the only one whose pages may use the camera
 * (server/security/security-headers.ts sends the Permissions-Policy that says so).
 * A Permissions-Policy belongs to the document it came with, so a client-side navigation
 * from elsewhere into this area keeps the camera off: go there with a page load instead.
 */
export const COUNTER_AREA = "/merchant";

export function isCounterArea(pathname: string): boolean {
  return pathname === COUNTER_AREA || pathname.startsWith(`${COUNTER_AREA}/`);
}
