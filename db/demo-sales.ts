import "server-only";
import { eq, inArray } from "drizzle-orm";
import type { Db } from "./client";
import { appSettings, deals } from "./schema";

const MINUTE = 60_000;
const WEEK_MIN = 7 * 24 * 60;
const SETTING = "demo:sales";

/** Where one demo sale sits relative to the moment the demo starts, in minutes. */
export interface DemoSaleWindow {
  startsInMin: number;
  endsInMin: number;
}

export interface DemoSale extends DemoSaleWindow {
  dealId: string;
}

/** A demo sale's times, `now` plus its window; vouchers stay valid a week past the sale. */
export function demoSaleTimes(window: DemoSaleWindow, now: Date) {
  const at = (minutes: number) => new Date(now.getTime() + minutes * MINUTE);
  return {
    startsAt: at(window.startsInMin),
    endsAt: at(window.endsInMin),
    voucherValidUntil: at(window.endsInMin + WEEK_MIN),
  };
}

/** Remembers which deals are the demo's sales and where each sits, for `placeDemoSales`. */
export async function rememberDemoSales(db: Db, sales: DemoSale[]): Promise<void> {
  await db
    .insert(appSettings)
    .values({ key: SETTING, value: JSON.stringify(sales) })
    .onConflictDoUpdate({ target: appSettings.key, set: { value: JSON.stringify(sales) } });
}

/**
 * At each start of the demo: every demo sale that has ended is placed again where it was
 * seeded, relative to `now` (the live one started minutes ago, the next one starts soon), so
 * a demo opened days later is not a list of ended sales. A sale still on or still to come
 * keeps its times, and every sale keeps its claims and stock: `npm run db:reset` starts over.
 * Returns the ids of the deals moved, whose gates must forget the old window.
 */
export async function placeDemoSales(db: Db, now: Date): Promise<string[]> {
  const [setting] = await db.select().from(appSettings).where(eq(appSettings.key, SETTING));
  if (!setting) return [];
  const sales = JSON.parse(setting.value) as DemoSale[];
  const rows = await db
    .select({ id: deals.id, endsAt: deals.endsAt })
    .from(deals)
    .where(
      inArray(
        deals.id,
        sales.map((sale) => sale.dealId),
      ),
    );
  const ended = new Set(rows.filter((row) => row.endsAt <= now).map((row) => row.id));
  const moved: string[] = [];
  for (const sale of sales) {
    if (!ended.has(sale.dealId)) continue;
    await db
      .update(deals)
      .set({ ...demoSaleTimes(sale, now), updatedAt: now })
      .where(eq(deals.id, sale.dealId));
    moved.push(sale.dealId);
  }
  return moved;
}
