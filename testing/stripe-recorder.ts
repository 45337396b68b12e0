import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import Stripe from "stripe";

/** One request as the recorder received it: form fields flattened as Stripe's SDK sends them. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  idempotencyKey: string | undefined;
  stripeVersion: string | undefined;
  authorization: string | undefined;
  params: Record<string, string>;
}

interface Answer {
  status: number;
  body: unknown;
}

interface StoredIntent {
  id: string;
  object: "payment_intent";
  amount: number;
  amount_received: number;
  currency: string;
  status: string;
  metadata: Record<string, string>;
  refunded: boolean;
}

/**
 * Stripe's test PaymentMethods the recorder knows (as Stripe's test mode does): the first
 * succeeds, the second is declined by the issuer. Any other id is one Stripe has never seen.
 */
export const TEST_PAYMENT_METHODS = { visa: "pm_card_visa", declined: "pm_card_chargeDeclined" };

/**
 * A loopback stand-in for the part of Stripe's API the adapter uses, answering as Stripe's
 * API reference documents it: PaymentIntent create (with confirm), search by metadata, and
 * refunds; JSON errors of Stripe's shape; idempotency keys replayed with the saved answer, and
 * refused for other parameters. It records every request so a test can read what was sent.
 * `loseAnswers` carries out a request and then never answers, as a dropped connection does;
 * `cutLostConnections` closes those connections (the SDK retries once), `dropLostAnswers`
 * also answers again (the retry is replayed the saved answer).
 */
export class StripeRecorder {
  readonly requests: RecordedRequest[] = [];
  loseAnswers = false;
  private readonly intents = new Map<string, StoredIntent>();
  private readonly saved = new Map<string, { params: string; answer: Answer }>();
  private readonly sockets = new Set<Socket>();
  private readonly unanswered = new Set<ServerResponse>();
  private readonly server = createServer((req, res) => void this.receive(req, res));

  private constructor(readonly secretKey: string) {
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
  }

  static async start(secretKey = "sk_test_recorder"): Promise<StripeRecorder> {
    const recorder = new StripeRecorder(secretKey);
    await new Promise<void>((resolve) => recorder.server.listen(0, "127.0.0.1", resolve));
    return recorder;
  }

  /** What to give the SDK (or STRIPE_API_URL) to send its requests here. */
  get api() {
    const { port } = this.server.address() as AddressInfo;
    return { host: "127.0.0.1", port, protocol: "http" as const };
  }

  get url() {
    return `http://127.0.0.1:${this.api.port}`;
  }

  /** The recorded requests to one path, such as "/v1/refunds". */
  to(path: string): RecordedRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  /** The PaymentIntents made for one Dealdrop idempotency key (in their metadata). */
  intentsWithKey(key: string): StoredIntent[] {
    return [...this.intents.values()].filter((intent) => intent.metadata.dealdrop_payment === key);
  }

  intentWithKey(key: string): StoredIntent | undefined {
    return this.intentsWithKey(key)[0];
  }

  /** Cuts the connections whose answers were lost, as a network failure does. */
  cutLostConnections() {
    for (const res of this.unanswered) res.socket?.destroy();
    this.unanswered.clear();
  }

  /** Answers from now on, and cuts the connections whose answers were lost. */
  dropLostAnswers() {
    this.loseAnswers = false;
    this.cutLostConnections();
  }

  /** A webhook event about one PaymentIntent, as Stripe sends it (to be signed by the test). */
  eventAbout(intent: StoredIntent, type: string): string {
    return JSON.stringify({
      id: `evt_${randomBytes(12).toString("hex")}`,
      object: "event",
      api_version: Stripe.API_VERSION,
      created: Math.floor(Date.now() / 1_000),
      type,
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: intent.metadata.dealdrop_payment ?? null },
      data: { object: intentBody(intent) },
    });
  }

  async close() {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async receive(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "http://stripe.invalid");
    const header = (name: string) => req.headers[name] as string | undefined;
    const request: RecordedRequest = {
      method: req.method ?? "",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      idempotencyKey: header("idempotency-key"),
      stripeVersion: header("stripe-version"),
      authorization: header("authorization"),
      params: Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString("utf8"))),
    };
    this.requests.push(request);
    const answer = this.answer(request);
    if (this.loseAnswers) {
      this.unanswered.add(res); // carried out; the answer never leaves
      return;
    }
    res
      .writeHead(answer.status, {
        "content-type": "application/json",
        "request-id": `req_${randomBytes(7).toString("hex")}`,
      })
      .end(JSON.stringify(answer.body));
  }

  private answer(request: RecordedRequest): Answer {
    if (request.authorization !== `Bearer ${this.secretKey}`) {
      return stripeError(401, "invalid_request_error", "Invalid API Key provided.");
    }
    if (request.method !== "POST") return this.route(request);
    // Stripe saves the first answer to a key and replays it; other parameters are refused.
    const key = request.idempotencyKey;
    const params = JSON.stringify(request.params);
    const saved = key ? this.saved.get(`${request.path} ${key}`) : undefined;
    if (saved) {
      if (saved.params === params) return saved.answer;
      return stripeError(
        400,
        "idempotency_error",
        "Keys for idempotent requests can only be used with the same parameters they were first used with.",
      );
    }
    const answer = this.route(request);
    if (key) this.saved.set(`${request.path} ${key}`, { params, answer });
    return answer;
  }

  private route(request: RecordedRequest): Answer {
    const route = `${request.method} ${request.path}`;
    if (route === "POST /v1/payment_intents") return this.createIntent(request.params);
    if (route === "GET /v1/payment_intents/search") return this.search(request.query.query ?? "");
    if (route === "POST /v1/refunds") return this.refund(request.params);
    return stripeError(404, "invalid_request_error", `Unrecognized request URL (${route}).`);
  }

  private createIntent(params: Record<string, string>): Answer {
    const amount = Number(params.amount);
    if (!Number.isInteger(amount) || !params.currency) {
      return stripeError(400, "invalid_request_error", "Missing required param: amount.", {
        param: "amount",
      });
    }
    const paymentMethod = params.payment_method ?? "";
    if (!Object.values(TEST_PAYMENT_METHODS).includes(paymentMethod)) {
      return stripeError(
        400,
        "invalid_request_error",
        `No such PaymentMethod: '${paymentMethod}'`,
        { code: "resource_missing", param: "payment_method" },
      );
    }
    const approved = paymentMethod === TEST_PAYMENT_METHODS.visa && params.confirm === "true";
    const intent: StoredIntent = {
      id: `pi_${randomBytes(12).toString("hex")}`,
      object: "payment_intent",
      amount,
      amount_received: approved ? amount : 0,
      currency: params.currency,
      status: approved ? "succeeded" : "requires_payment_method",
      metadata: metadataOf(params),
      refunded: false,
    };
    this.intents.set(intent.id, intent);
    if (approved || paymentMethod !== TEST_PAYMENT_METHODS.declined) {
      return { status: 200, body: intentBody(intent) };
    }
    return stripeError(402, "card_error", "Your card was declined.", {
      code: "card_declined",
      decline_code: "generic_decline",
      payment_intent: intentBody(intent),
    });
  }

  private search(query: string): Answer {
    const [, field, value] = /^metadata\['([^']+)'\]:'((?:[^'\\]|\\.)*)'$/.exec(query) ?? [];
    if (!field || value === undefined) {
      return stripeError(400, "invalid_request_error", `Invalid search query: ${query}`);
    }
    const wanted = value.replace(/\\(.)/g, "$1");
    const data = [...this.intents.values()]
      .filter((intent) => intent.metadata[field] === wanted)
      .map(intentBody);
    return {
      status: 200,
      body: {
        object: "search_result",
        url: "/v1/payment_intents/search",
        has_more: false,
        next_page: null,
        data,
      },
    };
  }

  private refund(params: Record<string, string>): Answer {
    const intent = this.intents.get(params.payment_intent ?? "");
    if (!intent) {
      return stripeError(
        400,
        "invalid_request_error",
        `No such payment_intent: '${params.payment_intent}'`,
        { code: "resource_missing", param: "payment_intent" },
      );
    }
    if (intent.refunded) {
      return stripeError(
        400,
        "invalid_request_error",
        `Charge for ${intent.id} has already been refunded.`,
        { code: "charge_already_refunded" },
      );
    }
    intent.refunded = true;
    return {
      status: 200,
      body: {
        id: `re_${randomBytes(12).toString("hex")}`,
        object: "refund",
        amount: intent.amount,
        currency: intent.currency,
        payment_intent: intent.id,
        status: "succeeded",
        metadata: metadataOf(params),
      },
    };
  }
}

function intentBody(intent: StoredIntent) {
  const { refunded: _, ...body } = intent;
  return body;
}

function metadataOf(params: Record<string, string>): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    const [, field] = /^metadata\[(.+)\]$/.exec(name) ?? [];
    if (field) metadata[field] = value;
  }
  return metadata;
}

function stripeError(
  status: number,
  type: string,
  message: string,
  extra: Record<string, unknown> = {},
): Answer {
  return { status, body: { error: { type, message, ...extra } } };
}
