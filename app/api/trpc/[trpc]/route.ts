import { handleTrpcRequest } from "@/server/api/http-handler";
import { getServices } from "@/server/services";

async function handler(req: Request) {
  return handleTrpcRequest(await getServices(), req);
}

export { handler as GET, handler as POST };
