import { serveMetrics } from "@/server/observability/metrics-endpoint";
import { getServices } from "@/server/services";

export const dynamic = "force-dynamic";

export async function GET(req: Request) {
  return serveMetrics(await getServices(), req);
}
