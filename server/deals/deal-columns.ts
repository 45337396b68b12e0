import "server-only";
import { deals, merchants } from "@/db/schema";

/** What a shopper sees of a deal (with its merchant): one list for every read of it. */
export const dealColumns = {
  id: deals.id,
  title: deals.title,
  description: deals.description,
  priceCents: deals.priceCents,
  originalPriceCents: deals.originalPriceCents,
  currency: deals.currency,
  quantity: deals.quantity,
  sold: deals.sold,
  startsAt: deals.startsAt,
  endsAt: deals.endsAt,
  status: deals.status,
  lat: deals.lat,
  lng: deals.lng,
  geofenceRadiusM: deals.geofenceRadiusM,
  finePrint: deals.finePrint,
  pickupStartsAt: deals.pickupStartsAt,
  pickupEndsAt: deals.pickupEndsAt,
  merchantName: merchants.name,
  merchantAddress: merchants.address,
  merchantTimeZone: merchants.timeZone,
};

/** Stock as shoppers read it: units left rather than units sold. */
export function withRemaining<T extends { quantity: number; sold: number }>({ sold, ...deal }: T) {
  return { ...deal, remaining: deal.quantity - sold };
}
