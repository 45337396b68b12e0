import "server-only";

export type TestCard = "approve" | "decline" | "slow" | "lost";

export interface ChargeRequest {
  /** The same key always means the same charge: a retry never charges twice. */
  idempotencyKey: string;
  amountCents: number;
  currency: string;
  /** What the shopper paid with; the built-in test provider reads its outcome from it. */
  card: TestCard;
}

export type ChargeResult = { status: "approved"; providerRef: string } | { status: "declined" };

/** Thrown when the provider's answer did not arrive in time: the charge may or may not exist. */
export class PaymentTimeout extends Error {
  constructor() {
    super("the payment provider did not answer in time");
    this.name = "PaymentTimeout";
  }
}

/** A card processor as Dealdrop uses one. Every call is idempotent by key. */
export interface PaymentProvider {
  readonly name: string;
  charge(request: ChargeRequest, timeoutMs: number): Promise<ChargeResult>;
  /** What became of a charge whose answer was lost; null if the provider never saw it. */
  lookup(idempotencyKey: string): Promise<ChargeResult | null>;
  refund(providerRef: string, idempotencyKey: string): Promise<void>;
}
