import Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { newId } from "@/lib/ids";
import { StripeRecorder, TEST_PAYMENT_METHODS } from "@/testing/stripe-recorder";
import { PaymentTimeout } from "../payment-provider";
import { StripePaymentProvider } from "./stripe";

/**
 * The Stripe adapter's requests, against a loopback recorder that answers as Stripe's API
 * reference documents (testing/stripe-recorder.ts). Stripe itself is not reachable
 * from this machine: what these tests prove is what the SDK sends and how each answer is read.
 */
let recorder: StripeRecorder;
let stripe: StripePaymentProvider;

beforeAll(async () => {
  recorder = await StripeRecorder.start();
  stripe = providerWithKey(recorder.secretKey);
});
afterAll(() => recorder?.close());
beforeEach(() => {
  recorder.loseAnswers = false;
});

function providerWithKey(secretKey: string) {
  return new StripePaymentProvider({
    secretKey,
    publishableKey: "pk_test_recorder",
    webhookSecret: "whsec_recorder",
    api: recorder.api,
  });
}

const chargeOf = (paymentMethod: string, idempotencyKey = `claim:${newId()}`) => ({
  idempotencyKey,
  amountCents: 450,
  currency: "EUR",
  paymentMethod,
});

describe("Stripe charges", () => {
  it("approved: one PaymentIntent created and confirmed with the payment method, keyed by the claim", async () => {
    const request = chargeOf(TEST_PAYMENT_METHODS.visa);
    const charged = await stripe.charge(request, 5_000);
    const intent = recorder.intentWithKey(request.idempotencyKey);
    expect(charged).toEqual({ status: "approved", providerRef: intent?.id });

    const [sent] = recorder.to("/v1/payment_intents");
    expect(sent).toMatchObject({
      method: "POST",
      idempotencyKey: request.idempotencyKey,
      stripeVersion: Stripe.API_VERSION,
      params: {
        amount: "450",
        currency: "eur",
        payment_method: TEST_PAYMENT_METHODS.visa,
        confirm: "true",
        error_on_requires_action: "true",
        "automatic_payment_methods[enabled]": "true",
        "automatic_payment_methods[allow_redirects]": "never",
        "metadata[dealdrop_payment]": request.idempotencyKey,
      },
    });

    // A retry of the same claim is the same charge: Stripe replays its answer to the key.
    expect(await stripe.charge(request, 5_000)).toEqual(charged);
    expect(recorder.to("/v1/payment_intents").map((r) => r.idempotencyKey)).toEqual([
      request.idempotencyKey,
      request.idempotencyKey,
    ]);
    expect(recorder.intentsWithKey(request.idempotencyKey)).toHaveLength(1);
  });

  it("declined by the issuer, or a token Stripe never issued: declined, and no money moved", async () => {
    expect(await stripe.charge(chargeOf(TEST_PAYMENT_METHODS.declined), 5_000)).toEqual({
      status: "declined",
    });
    // The old test cards mean nothing to Stripe: the browser cannot choose an outcome.
    for (const card of ["approve", "pm_forged"]) {
      expect(await stripe.charge(chargeOf(card), 5_000)).toEqual({ status: "declined" });
    }
  });

  it("a lost answer is a PaymentTimeout; the lookup finds the charge by its key's metadata", async () => {
    const request = chargeOf(TEST_PAYMENT_METHODS.visa);
    recorder.loseAnswers = true;
    await expect(stripe.charge(request, 300)).rejects.toBeInstanceOf(PaymentTimeout);
    recorder.loseAnswers = false;
    const made = recorder.intentWithKey(request.idempotencyKey);
    expect(made?.status).toBe("succeeded");

    expect(await stripe.lookup(request.idempotencyKey)).toEqual({
      status: "approved",
      providerRef: made?.id,
    });
    expect(recorder.to("/v1/payment_intents/search").at(-1)?.query).toEqual({
      query: `metadata['dealdrop_payment']:'${request.idempotencyKey}'`,
    });
    expect(await stripe.lookup(`claim:${newId()}`)).toBeNull();

    const declined = chargeOf(TEST_PAYMENT_METHODS.declined);
    await stripe.charge(declined, 5_000);
    expect(await stripe.lookup(declined.idempotencyKey)).toEqual({ status: "declined" });
  });

  it("a key Stripe refuses is a typed UNAVAILABLE, not a charge and not a crash", async () => {
    await expect(
      providerWithKey("sk_test_wrong").charge(chargeOf(TEST_PAYMENT_METHODS.visa), 5_000),
    ).rejects.toMatchObject({ code: "UNAVAILABLE" });
  });
});

describe("Stripe refunds", () => {
  it("refund by PaymentIntent with its own key: a retry is the same refund, and a refund already made is done", async () => {
    const request = chargeOf(TEST_PAYMENT_METHODS.visa);
    const charged = await stripe.charge(request, 5_000);
    if (charged.status !== "approved") throw new Error("not approved");
    const refundKey = `refund:${request.idempotencyKey}`;
    const before = recorder.to("/v1/refunds").length;

    await stripe.refund(charged.providerRef, refundKey);
    await stripe.refund(charged.providerRef, refundKey);
    const sent = recorder.to("/v1/refunds").slice(before);
    expect(sent).toHaveLength(2);
    for (const refund of sent) {
      expect(refund).toMatchObject({
        idempotencyKey: refundKey,
        params: { payment_intent: charged.providerRef, "metadata[dealdrop_payment]": refundKey },
      });
    }
    expect(recorder.intentWithKey(request.idempotencyKey)?.refunded).toBe(true);

    // Stripe forgets keys after a day: a late retry under a fresh key finds the refund made.
    await expect(stripe.refund(charged.providerRef, `${refundKey}:later`)).resolves.toBeUndefined();
    await expect(stripe.refund("pi_unknown", refundKey.replace("claim", "x"))).rejects.toThrow(
      /No such payment_intent/,
    );
  });
});
