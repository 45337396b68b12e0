"use client";

import Link from "next/link";
import { useCallback, useEffect, useState } from "react";
import {
  type EnrolledDevice,
  type LocalRedemption,
  readDevice,
  readTrust,
  redemptionsSince,
  type TrustBundle,
} from "./device-store";
import { type SyncProblem, syncNow } from "./device-sync";
import { EnrolDevice } from "./enrol-device";
import { RedemptionHistory } from "./redemption-history";
import { ScanInputs } from "./scan-inputs";
import { TrustStatus } from "./trust-status";
import { VerdictPanel } from "./verdict-panel";
import { type CounterVerdict, verifyAtCounter } from "./verify-at-counter";

const SYNC_EVERY_MS = 60_000;
const BACKGROUND_SYNC_TAG = "dealdrop-redemptions";

function startOfToday() {
  const day = new Date();
  day.setHours(0, 0, 0, 0);
  return day.getTime();
}

/** The counter device: verify offline, remember every redemption, sync when it can. */
export function CounterApp() {
  const [device, setDevice] = useState<EnrolledDevice | null | undefined>(undefined);
  const [trust, setTrust] = useState<TrustBundle | undefined>(undefined);
  const [history, setHistory] = useState<LocalRedemption[]>([]);
  const [problem, setProblem] = useState<SyncProblem | null>(null);
  const [verdict, setVerdict] = useState<CounterVerdict | null>(null);
  const [online, setOnline] = useState(true);
  const [, setTick] = useState(0);

  const reload = useCallback(async () => {
    setTrust(await readTrust());
    setHistory(await redemptionsSince(startOfToday()));
  }, []);

  const sync = useCallback(async () => {
    if (!navigator.onLine) {
      setProblem({ kind: "offline", message: "No connection: working offline." });
      return;
    }
    setProblem(await syncNow(reload));
    await reload();
  }, [reload]);

  useEffect(() => {
    setOnline(navigator.onLine);
    readDevice().then(async (found) => {
      setDevice(found ?? null);
      await reload();
      if (found) await sync();
    });
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker
        .register("/serwist/sw.js", { scope: "/merchant" })
        .catch(() => undefined);
    }
    const goOnline = () => {
      setOnline(true);
      void sync();
    };
    const goOffline = () => setOnline(false);
    window.addEventListener("online", goOnline);
    window.addEventListener("offline", goOffline);
    const timer = setInterval(() => {
      setTick((n) => n + 1);
      void readDevice().then((found) => found && sync());
    }, SYNC_EVERY_MS);
    return () => {
      window.removeEventListener("online", goOnline);
      window.removeEventListener("offline", goOffline);
      clearInterval(timer);
    };
  }, [reload, sync]);

  async function check(text: string) {
    if (!device) return;
    const answer = await verifyAtCounter(text, device);
    setVerdict(answer);
    await reload();
    if (answer.accepted) {
      void requestBackgroundSync();
      if (navigator.onLine) void sync();
    }
  }

  if (device === undefined) return <p className="muted">Opening…</p>;
  if (device === null) {
    return (
      <EnrolDevice
        onEnrolled={(enrolled) => {
          setDevice(enrolled);
          void sync();
        }}
      />
    );
  }

  // Refused by the server: revoked, unknown, or on hold until the shop keeps or revokes it.
  const revoked = problem !== null && problem.kind !== "offline";
  return (
    <>
      <section className="counter-status" aria-label="Device status">
        <p>
          <strong>{device.merchantName}</strong> · {device.deviceName}{" "}
          <span className={`pill ${online ? "pill-online" : "pill-offline"}`} data-testid="network">
            {online ? "online" : "offline"}
          </span>{" "}
          {online && <Link href="/merchant/devices">Devices and conflicts</Link>}
        </p>
        <TrustStatus trust={trust} />
        {revoked && (
          <p className="error" role="alert" data-testid="device-problem">
            {problem?.message}
          </p>
        )}
        {problem?.kind === "offline" && (
          <p className="muted" data-testid="device-offline">
            {problem.message}
          </p>
        )}
      </section>
      {verdict && <VerdictPanel verdict={verdict} onNext={() => setVerdict(null)} />}
      <ScanInputs onCode={(text) => void check(text)} disabled={false} />
      <RedemptionHistory entries={history} />
    </>
  );
}

async function requestBackgroundSync() {
  const registration = await navigator.serviceWorker?.getRegistration("/merchant");
  const withSync = registration as
    | (ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } })
    | undefined;
  await withSync?.sync?.register(BACKGROUND_SYNC_TAG).catch(() => undefined);
}
