import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { eq } from "drizzle-orm";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claims, payments, vouchers } from "@/db/schema";
import { newId } from "@/lib/ids";
import { createDeal, createMerchant, createShoppers } from "@/testing/sale-fixtures";
import { StripeRecorder, TEST_PAYMENT_METHODS } from "@/testing/stripe-recorder";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";
import { createServices, type Services } from "@/testing/wired-services";
import { parseEnv } from "../env";
import { createNodePaymentWebhookRoute } from "../http/payment-webhook-route";

/**
 * POST /api/payments/stripe/webhook, as the production server serves it, with the services
 * configured for Stripe (PAYMENT_PROVIDER=stripe) and the Stripe API played by the loopback
 * recorder. Deliveries are signed with the SDK's own test helper, as Stripe signs them.
 */
const TTL_MS = 10 * 60_000;
const WEBHOOK_SECRET = "whsec_dealdropwebhooktest";
let database: TestDatabase;
let recorder: StripeRecorder;
let services: Services;
let server: Server;
let webhookUrl: string;
let now = new Date();

beforeAll(async () => {
  database = await createTestDatabase();
  recorder = await StripeRecorder.start();
  services = await createServices(
    parseEnv({
      DATABASE_URL: database.url,
      DEMO_SEED: "off",
      LOG_LEVEL: "silent",
      PRICED_RESERVATION_MS: String(TTL_MS),
      // Long: the race below ends the charge's wait itself, never the clock.
      PAYMENT_TIMEOUT_MS: "60000",
      PAYMENT_PROVIDER: "stripe",
      STRIPE_SECRET_KEY: recorder.secretKey,
      STRIPE_PUBLISHABLE_KEY: "pk_test_dealdrop",
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_URL: recorder.url,
    }),
    { clock: () => now },
  );
  server = createServer(createNodePaymentWebhookRoute(services));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/payments/stripe/webhook`;
});
afterAll(async () => {
  server?.close();
  await services?.stop();
  await recorder?.close();
  await database?.drop();
});

/** A shopper holding a reservation on a one-unit deal at 4.50. */
async function reserved() {
  const merchant = await createMerchant(database.db);
  const deal = await createDeal(database.db, merchant.id, { quantity: 1, now, priceCents: 450 });
  const [shopper = ""] = await createShoppers(database.db, 1);
  const claim = await services.claims.claim(shopper, { dealId: deal.id, idempotencyKey: newId() });
  if (claim.outcome !== "WON") throw new Error(claim.outcome);
  return { shopper, claimId: claim.claimId, key: `claim:${claim.claimId}` };
}

/**
 * The state `pay` leaves when its process dies right after Stripe approved: the payment row
 * pending, the claim still reserved, the PaymentIntent succeeded at Stripe.
 */
async function chargedThenCrashed() {
  const r = await reserved();
  await database.db.insert(payments).values({
    id: newId(),
    claimId: r.claimId,
    provider: "stripe",
    idempotencyKey: r.key,
    amountCents: 450,
    createdAt: now,
  });
  const charged = await services.paymentProvider.charge(
    {
      idempotencyKey: r.key,
      amountCents: 450,
      currency: "EUR",
      paymentMethod: TEST_PAYMENT_METHODS.visa,
    },
    5_000,
  );
  expect(charged.status).toBe("approved");
  return r;
}

function succeededEvent(key: string) {
  const intent = recorder.intentWithKey(key);
  if (!intent) throw new Error(`no PaymentIntent for ${key}`);
  return recorder.eventAbout(intent, "payment_intent.succeeded");
}

/** The route's JSON answer. */
interface WebhookAnswer {
  result?: { received: true; outcome: string };
  error?: { code: string; message: string };
}

async function deliver(
  payload: string,
  signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }),
) {
  const response = await fetch(webhookUrl, {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": signature },
    body: payload,
  });
  return { status: response.status, body: (await response.json()) as WebhookAnswer };
}

/** Waits until the recorder has seen `count` charge requests for the key. */
async function requestsFor(key: string, count: number) {
  const seen = () => recorder.to("/v1/payment_intents").filter((r) => r.idempotencyKey === key);
  while (seen().length < count) await new Promise((resolve) => setTimeout(resolve, 20));
}

const claimOf = async (claimId: string) =>
  (await database.db.select().from(claims).where(eq(claims.id, claimId)))[0];
const paymentOf = async (claimId: string) =>
  (await database.db.select().from(payments).where(eq(payments.claimId, claimId)))[0];
const vouchersOf = (claimId: string) =>
  database.db.select().from(vouchers).where(eq(vouchers.claimId, claimId));
const refundsOf = (key: string) =>
  recorder.to("/v1/refunds").filter((request) => request.idempotencyKey === `refund:${key}`);

describe("Stripe webhook", () => {
  it("a success for a reservation still held confirms it and issues the voucher, once", async () => {
    const r = await chargedThenCrashed();
    const event = succeededEvent(r.key);
    expect(await deliver(event)).toEqual({
      status: 200,
      body: { result: { received: true, outcome: "confirmed" } },
    });
    expect(await claimOf(r.claimId)).toMatchObject({ status: "confirmed" });
    expect(await paymentOf(r.claimId)).toMatchObject({
      status: "approved",
      providerRef: recorder.intentWithKey(r.key)?.id,
    });
    expect(await vouchersOf(r.claimId)).toHaveLength(1);

    // Stripe delivers an event more than once: the second finds its work done.
    expect((await deliver(event)).body).toEqual({
      result: { received: true, outcome: "unchanged" },
    });
    expect(await vouchersOf(r.claimId)).toHaveLength(1);
    expect(refundsOf(r.key)).toHaveLength(0);
  });

  it("a success after the reservation expired is refunded with its own key, and the unit stays free", async () => {
    const r = await chargedThenCrashed();
    now = new Date(now.getTime() + TTL_MS + 1_000);
    // Not swept yet: the claim still says reserved, but its time is over.
    const event = succeededEvent(r.key);
    expect((await deliver(event)).body).toEqual({
      result: { received: true, outcome: "refunded" },
    });
    expect(await paymentOf(r.claimId)).toMatchObject({ status: "refunded" });
    expect(await claimOf(r.claimId)).toMatchObject({ status: "reserved" });
    expect(await vouchersOf(r.claimId)).toHaveLength(0);
    const [refund] = refundsOf(r.key);
    expect(refund?.params.payment_intent).toBe(recorder.intentWithKey(r.key)?.id);
    expect(recorder.intentWithKey(r.key)?.refunded).toBe(true);

    expect((await deliver(event)).body).toEqual({
      result: { received: true, outcome: "unchanged" },
    });
    await services.sweep();
    expect(await claimOf(r.claimId)).toMatchObject({ status: "expired" });
    expect(refundsOf(r.key)).toHaveLength(1);
  });

  it("a bad signature is a typed 400 and changes nothing", async () => {
    const r = await chargedThenCrashed();
    const event = succeededEvent(r.key);
    const requestsBefore = recorder.requests.length;
    const forged = [
      // Signed with another secret.
      Stripe.webhooks.generateTestHeaderString({ payload: event, secret: "whsec_attacker" }),
      // Signed for another body.
      Stripe.webhooks.generateTestHeaderString({ payload: `${event} `, secret: WEBHOOK_SECRET }),
      // Replayed from long ago: outside the SDK's five-minute tolerance.
      Stripe.webhooks.generateTestHeaderString({
        payload: event,
        secret: WEBHOOK_SECRET,
        timestamp: Math.floor(Date.now() / 1_000) - 3_600,
      }),
      "t=1,v1=00",
      "",
    ];
    for (const signature of forged) {
      expect(await deliver(event, signature)).toEqual({
        status: 400,
        body: {
          error: {
            code: "BAD_REQUEST",
            message: expect.stringMatching(
              /^The Stripe-Signature header (is missing|does not match)/,
            ),
          },
        },
      });
    }
    expect(await claimOf(r.claimId)).toMatchObject({ status: "reserved" });
    expect(await paymentOf(r.claimId)).toMatchObject({ status: "pending", providerRef: null });
    expect(await vouchersOf(r.claimId)).toHaveLength(0);
    expect(recorder.requests).toHaveLength(requestsBefore);
  });

  it("other methods, other providers' paths and oversized bodies get typed answers", async () => {
    const get = await fetch(webhookUrl);
    expect([
      get.status,
      get.headers.get("allow"),
      ((await get.json()) as WebhookAnswer).error?.code,
    ]).toEqual([405, "POST", "METHOD_NOT_SUPPORTED"]);
    const other = await fetch(webhookUrl.replace("/stripe/", "/test/"), { method: "POST" });
    expect([other.status, ((await other.json()) as WebhookAnswer).error?.code]).toEqual([
      404,
      "NOT_FOUND",
    ]);
    const huge = await fetch(webhookUrl, { method: "POST", body: "x".repeat(300 * 1024) });
    expect([huge.status, ((await huge.json()) as WebhookAnswer).error?.code]).toEqual([
      413,
      "PAYLOAD_TOO_LARGE",
    ]);
    const ignored = JSON.stringify({
      id: "evt_1",
      object: "event",
      type: "customer.created",
      data: { object: {} },
    });
    expect((await deliver(ignored)).body).toEqual({
      result: { received: true, outcome: "ignored" },
    });
  });
});

describe("the webhook and pay, racing", () => {
  /** `pay` waits for Stripe's answer, which is lost, while the webhook confirms the claim. */
  async function webhookFirst() {
    const r = await reserved();
    recorder.loseAnswers = true;
    const paying = services.checkout.pay(r.shopper, r.claimId, TEST_PAYMENT_METHODS.visa);
    await requestsFor(r.key, 1);
    expect((await deliver(succeededEvent(r.key))).body.result?.outcome).toBe("confirmed");
    return { ...r, paying };
  }

  async function expectPaidOnce(r: { claimId: string; key: string }) {
    expect(await claimOf(r.claimId)).toMatchObject({ status: "confirmed" });
    expect(await paymentOf(r.claimId)).toMatchObject({ status: "approved" });
    expect(await vouchersOf(r.claimId)).toMatchObject([{ revokedAt: null }]);
    expect(refundsOf(r.key)).toHaveLength(0);
  }

  it("then pay's answer arrives (the SDK's retry is replayed): PAID, nothing refunded", async () => {
    const r = await webhookFirst();
    recorder.dropLostAnswers();
    expect(await r.paying).toMatchObject({ outcome: "PAID", voucherId: expect.any(String) });
    await expectPaidOnce(r);
  });

  it("then pay's answer is lost for good (a PaymentTimeout): PAID, and the claim is not given back", async () => {
    const r = await webhookFirst();
    // The connection breaks and the SDK's one retry is lost too.
    recorder.cutLostConnections();
    await requestsFor(r.key, 2);
    recorder.dropLostAnswers();
    expect(await r.paying).toMatchObject({ outcome: "PAID", voucherId: expect.any(String) });
    await expectPaidOnce(r);
  });
});

describe("the browser cannot choose an outcome on a Stripe start", () => {
  it("the old test card 'approve' is a token Stripe never issued: declined, the unit back on sale", async () => {
    const r = await reserved();
    expect(await services.checkout.pay(r.shopper, r.claimId, "approve")).toMatchObject({
      outcome: "DECLINED",
    });
    expect(await claimOf(r.claimId)).toMatchObject({ status: "cancelled" });
    expect(await vouchersOf(r.claimId)).toHaveLength(0);
    expect(services.paymentProvider.formSettings).toEqual({ publishableKey: "pk_test_dealdrop" });
  });
});
