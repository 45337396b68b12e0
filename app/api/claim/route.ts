import { answerFetchClaim } from "@/server/http/claim-route";
import { getServices } from "@/server/services";

/**
 * The claim route under `next dev` and `next start`. The production server
 * (server/http/main.ts) answers `/api/claim` itself, before Next's pipeline.
 */
export async function POST(req: Request) {
  return answerFetchClaim(await getServices(), req);
}

export { POST as GET, POST as PUT, POST as PATCH, POST as DELETE };
