import { answerFetchStock } from "@/server/http/stock-route";
import { getServices } from "@/server/services";

/**
 * Live stock under `next dev` and `next start`. The production server (server/http/main.ts)
 * answers `/api/deals/<dealId>/stock` itself, before Next's pipeline.
 */
export const dynamic = "force-dynamic";

export async function GET(req: Request, { params }: { params: Promise<{ dealId: string }> }) {
  return answerFetchStock(await getServices(), req, (await params).dealId);
}

export { GET as POST, GET as PUT, GET as PATCH, GET as DELETE };
