import { type NextRequest, NextResponse } from "next/server";
import { newNonce, pagePolicy } from "@/server/security/security-headers";

/**
 * Gives every page its own Content-Security-Policy with a fresh nonce. Next reads the nonce
 * from the request's policy header and puts it on the scripts and styles it renders; the
 * answer carries the same policy, in place of the one the edge set for non-pages.
 */
export function proxy(request: NextRequest) {
  const policy = pagePolicy(newNonce(), { dev: process.env.NODE_ENV === "development" });
  const headers = new Headers(request.headers);
  headers.set("content-security-policy", policy);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set("content-security-policy", policy);
  return response;
}

export const config = {
  matcher: [
    {
      // API answers and build files are not pages: they keep the edge's policy.
      source: "/((?!api/|_next/static/|_next/image).*)",
      // A prefetch brings no document of its own.
      missing: [
        { type: "header", key: "next-router-prefetch" },
        { type: "header", key: "purpose", value: "prefetch" },
      ],
    },
  ],
};
