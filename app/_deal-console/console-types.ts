import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/api/root";

type SalesOutputs = inferRouterOutputs<AppRouter>["sales"];

export type ManagedDeal = SalesOutputs["get"];
export type DealListRow = SalesOutputs["list"][number];
export type SaleSnapshot = SalesOutputs["snapshot"];
export type SecondStats = SaleSnapshot["seconds"][number];
export type HistoryEntry = SalesOutputs["history"][number];

/** Who the console serves: admins see every merchant's deals, staff their own. */
export type ConsoleAudience = "admin" | "merchant";

export const CONSOLE_PATHS: Record<
  ConsoleAudience,
  { list: string; newDeal: string; deal: (dealId: string) => string }
> = {
  admin: {
    list: "/admin",
    newDeal: "/admin/deals/new",
    deal: (dealId) => `/admin/deals/${dealId}`,
  },
  merchant: {
    list: "/merchant/deals",
    newDeal: "/merchant/deals/new",
    deal: (dealId) => `/merchant/deals/${dealId}`,
  },
};
