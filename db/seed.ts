import "server-only";
import { count } from "drizzle-orm";
import { newId } from "@/lib/ids";
import { PLACES } from "@/lib/places";
import type { Db } from "./client";
import { type DemoSale, type DemoSaleWindow, demoSaleTimes, rememberDemoSales } from "./demo-sales";
import { claims, deals, merchants, users } from "./schema";

export const DEMO_PASSWORD = "dealdrop-demo";
export const DEMO_CITY = PLACES[0] as (typeof PLACES)[number];

export const DEMO_ACCOUNTS = {
  admin: "admin@dealdrop.test",
  merchantStaff: ["staff@bakkerij.test", "staff@koffie.test"],
  shoppers: ["sam@shopper.test", "noor@shopper.test", "lucas@shopper.test"],
  password: DEMO_PASSWORD,
};

/**
 * Seeds an empty database with a demo city: an admin, two merchants with staff, three
 * shoppers and four deals (live, starting soon, sold out, priced). Does nothing, and returns
 * false, when any user exists. `hashPassword` is the app's own (server/auth/password.ts): the
 * seed stores hashes a sign-in can check, and db/ stays below server/. The sales are placed
 * relative to `now`, and again at each later start of the demo once they have ended
 * (db/demo-sales.ts).
 */
export async function seedDemo(
  db: Db,
  hashPassword: (password: string) => Promise<string>,
  now = new Date(),
): Promise<boolean> {
  const [existing] = await db.select({ n: count() }).from(users);
  if ((existing?.n ?? 0) > 0) return false;

  const passwordHash = await hashPassword(DEMO_PASSWORD);
  const bakery = {
    id: newId(),
    name: "Bakkerij de Jong",
    address: "Nieuwendijk 120, Amsterdam",
    lat: 52.3752,
    lng: 4.8931,
  };
  const coffee = {
    id: newId(),
    name: "Koffie Kanaal",
    address: "Prinsengracht 240, Amsterdam",
    lat: 52.3701,
    lng: 4.8838,
  };
  await db.insert(merchants).values([bakery, coffee]);

  const person = (
    email: string,
    displayName: string,
    role: "shopper" | "merchant" | "admin",
    merchantId?: string,
  ) => ({ id: newId(), email, displayName, role, merchantId, passwordHash });
  const [bakeryStaff = "", coffeeStaff = ""] = DEMO_ACCOUNTS.merchantStaff;
  const [sam = "", noor = "", lucas = ""] = DEMO_ACCOUNTS.shoppers;
  const admin = person(DEMO_ACCOUNTS.admin, "Ada Admin", "admin");
  const staff = [
    person(bakeryStaff, "Bram (Bakkerij)", "merchant", bakery.id),
    person(coffeeStaff, "Kim (Koffie Kanaal)", "merchant", coffee.id),
  ];
  const shoppers = [
    person(sam, "Sam", "shopper"),
    person(noor, "Noor", "shopper"),
    person(lucas, "Lucas", "shopper"),
  ];
  await db.insert(users).values([admin, ...staff, ...shoppers]);

  const soldOutId = newId();
  const placed: DemoSale[] = [];
  /** A sale's times, remembered so that a later start can place it again. */
  const at = (window: DemoSaleWindow, dealId = newId()) => {
    placed.push({ dealId, ...window });
    return { id: dealId, ...demoSaleTimes(window, now) };
  };
  await db.insert(deals).values([
    {
      merchantId: bakery.id,
      title: "Free croissant, fresh from the oven",
      description: "One butter croissant per person. Show the voucher at the counter.",
      finePrint: "One per person. Collect it in the pickup window; not combined with other offers.",
      quantity: 100,
      ...at({ startsInMin: -5, endsInMin: 120 }),
      lat: bakery.lat,
      lng: bakery.lng,
    },
    {
      merchantId: coffee.id,
      title: "Flat white on the house",
      description: "The first 40 shoppers get a flat white for free.",
      quantity: 40,
      ...at({ startsInMin: 5, endsInMin: 180 }),
      lat: coffee.lat,
      lng: coffee.lng,
    },
    {
      merchantId: coffee.id,
      title: "Latte art masterclass seat",
      description: "Three seats at Saturday's masterclass.",
      quantity: 3,
      sold: 3,
      ...at({ startsInMin: -60, endsInMin: 60 }, soldOutId),
      lat: coffee.lat,
      lng: coffee.lng,
    },
    {
      merchantId: bakery.id,
      title: "Lunch box for two",
      description: "Two sandwiches, two pastries and a jug of lemonade.",
      priceCents: 450,
      originalPriceCents: 1200,
      quantity: 25,
      ...at({ startsInMin: -10, endsInMin: 240 }),
      lat: bakery.lat,
      lng: bakery.lng,
    },
  ]);
  await rememberDemoSales(db, placed);
  await db.insert(claims).values(
    shoppers.map((shopper) => ({
      id: newId(),
      dealId: soldOutId,
      userId: shopper.id,
      status: "confirmed" as const,
      idempotencyKey: `seed-${shopper.id}`,
    })),
  );
  return true;
}
