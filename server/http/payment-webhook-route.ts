import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApiErrorBody } from "@/lib/wire/error-contract";
import { DomainError } from "../errors";
import { log } from "../log";
import { WebhookRejected } from "../payments/payment-provider";
import { receivePaymentWebhook } from "../payments/payment-webhook";
import type { Services } from "../services";
import { domainRefusal, type HttpAnswer, INTERNAL_REFUSAL, jsonAnswer } from "./json-answer";

const PATH = /^\/api\/payments\/([a-z0-9-]{1,32})\/webhook$/;

/** A Stripe event is a few kilobytes; this leaves room for any provider's and no more. */
const MAX_BODY_BYTES = 256 * 1024;

export const isPaymentWebhookPath = (url: string | undefined) => PATH.test(url ?? "");

/**
 * `POST /api/payments/<provider>/webhook` on the production server (server/http/main.ts):
 * the configured provider's deliveries, read raw (its signature covers the bytes), capped.
 */
export function createNodePaymentWebhookRoute(
  services: Pick<Services, "paymentProvider" | "checkout">,
) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const { status, headers, body } = await answerWebhook(services, req);
    res.writeHead(status, headers).end(body);
  };
}

async function answerWebhook(
  services: Pick<Services, "paymentProvider" | "checkout">,
  req: IncomingMessage,
): Promise<HttpAnswer> {
  const provider = services.paymentProvider;
  const named = PATH.exec(req.url ?? "")?.[1];
  if (named !== provider.name) {
    return refuse(
      404,
      "NOT_FOUND",
      `No ${named} payment webhook here: this server's payments go through ${provider.name}.`,
    );
  }
  if (!provider.webhook) {
    return refuse(404, "NOT_FOUND", `The ${provider.name} payment provider takes no webhooks.`);
  }
  if (req.method !== "POST")
    return refuse(405, "METHOD_NOT_SUPPORTED", "Webhooks are sent with POST.");
  const rawBody = await readRawBody(req, MAX_BODY_BYTES);
  if (!rawBody) {
    const answer = refuse(
      413,
      "PAYLOAD_TOO_LARGE",
      `A webhook delivery is at most ${MAX_BODY_BYTES} bytes.`,
    );
    // The rest of the body is left on the socket: close rather than read on.
    answer.headers.connection = "close";
    return answer;
  }
  const signature = req.headers[provider.webhook.signatureHeader];
  try {
    const outcome = await receivePaymentWebhook(
      { provider, checkout: services.checkout },
      rawBody,
      Array.isArray(signature) ? signature[0] : signature,
    );
    return jsonAnswer(200, { result: { received: true, outcome } }, "POST");
  } catch (error) {
    if (error instanceof WebhookRejected) return refuse(400, "BAD_REQUEST", error.message);
    if (DomainError.is(error)) {
      const { status, error: refusal } = domainRefusal(error);
      return jsonAnswer(status, { error: refusal }, "POST");
    }
    // The provider retries a delivery that was not answered 2xx: nothing is lost.
    log.error({ err: error, provider: provider.name }, "payment webhook failed");
    return jsonAnswer(INTERNAL_REFUSAL.status, { error: INTERNAL_REFUSAL.error }, "POST");
  }
}

const refuse = (status: number, code: ApiErrorBody["code"], message: string) =>
  jsonAnswer(status, { error: { code, message } }, "POST");

/** The body's bytes, or null past `limit` (announced or sent). */
function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  if (Number(req.headers["content-length"] ?? 0) > limit) return Promise.resolve(null);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else {
        req.removeAllListeners("data");
        resolve(null);
      }
    });
    req.once("end", () => resolve(Buffer.concat(chunks)));
    // A delivery cut short does not verify: an empty body is refused by its signature.
    req.once("error", () => resolve(Buffer.alloc(0)));
  });
}
