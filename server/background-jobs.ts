import "server-only";
import type { Db } from "@/db/client";
import type { StandingFollower } from "./auth/standing-follower";
import { expireReservations } from "./claims/reservation-expiry";
import { log } from "./log";
import type { CheckoutService } from "./payments/checkout-service";
import type { Platform } from "./platform";
import type { SigningKeyStore } from "./vouchers/signing-keys";

export interface SweepReport {
  expired: number;
  paymentsSettled: number;
  refundsPaid: number;
  gatesWarmed: number;
  /** Accounts changed behind the app's back whose cached standings were dropped. */
  standingsFollowed: number;
}

/** One pass of the durable background work; each part is safe on every instance at once. */
export function sweeper(parts: {
  db: Db;
  platform: Platform;
  checkout: CheckoutService;
  clock: () => Date;
  paymentTimeoutMs: number;
  onStockChange: (dealId: string) => void;
  standings: Pick<StandingFollower, "follow">;
}): () => Promise<SweepReport> {
  const { db, platform, checkout, clock } = parts;
  return async () => ({
    expired: await expireReservations(db, platform.engine, clock(), parts.onStockChange),
    paymentsSettled: await checkout.settleUnknownPayments(2 * parts.paymentTimeoutMs),
    refundsPaid: await checkout.refundOwed(),
    gatesWarmed: await platform.warmGates(clock()),
    standingsFollowed: await parts.standings.follow(),
  });
}

export interface BackgroundJobs {
  /** Stops the timer; a pass in progress goes on. */
  halt(): void;
  /** Stops the timer and waits for a pass in progress. */
  settle(): Promise<void>;
}

/**
 * Every `intervalMs`: a sweep, the signing key's rotation and the platform's reconciliation,
 * each catching and logging its own failure. The timer does not hold the process open.
 */
export function startBackgroundJobs(parts: {
  sweep: () => Promise<SweepReport>;
  signingKeys: Pick<SigningKeyStore, "advanceRotation">;
  platform: Pick<Platform, "reconcile">;
  intervalMs: number;
}): BackgroundJobs {
  const passes = new Set<Promise<unknown>>();
  const timer = setInterval(() => {
    const swept = parts
      .sweep()
      .then((done) => {
        if (done.expired > 0 || done.paymentsSettled > 0 || done.refundsPaid > 0)
          log.info({ done }, "background sweep");
      })
      .catch((error) => log.error({ err: error }, "background sweep failed"));
    const rotated = parts.signingKeys
      .advanceRotation()
      .then((rotated) => rotated && log.info("voucher signing key rotated"))
      .catch((error) => log.error({ err: error }, "signing key rotation failed"));
    const reconciled = parts.platform
      .reconcile()
      .then((report) => {
        if (report && (report.released > 0 || report.confirmed > 0))
          log.warn({ report }, "reconciled pending claims");
      })
      .catch((error) => log.error({ err: error }, "reconciler failed"));
    const pass = Promise.all([swept, rotated, reconciled]);
    passes.add(pass);
    void pass.finally(() => passes.delete(pass));
  }, parts.intervalMs);
  timer.unref();
  return {
    halt: () => clearInterval(timer),
    async settle() {
      clearInterval(timer);
      await Promise.all([...passes]);
    },
  };
}
