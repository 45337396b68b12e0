import { getServices } from "@/server/services";

export const dynamic = "force-dynamic";

/**
 * The public keys that verify vouchers. Devices cache it; five minutes fresh is plenty since
 * a new key is published a lead time (hours) before it signs. Any origin may read it.
 */
const HEADERS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "GET, OPTIONS",
  "Cache-Control": "public, max-age=300, stale-while-revalidate=3600",
};

export async function GET() {
  const keys = await (await getServices()).signingKeys.publishedKeys();
  return Response.json({ keys }, { headers: HEADERS });
}

export function OPTIONS() {
  return new Response(null, {
    status: 204,
    headers: { ...HEADERS, "Access-Control-Max-Age": "86400" },
  });
}
