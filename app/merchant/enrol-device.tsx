"use client";

import Link from "next/link";
import { type FormEvent, useEffect, useState } from "react";
import { deviceApi } from "./device-api";
import { type EnrolledDevice, saveDevice } from "./device-store";

type Staff = { displayName: string; role: string } | null;

/** First run, online: a signed-in staff member names this device and enrols it. */
export function EnrolDevice({ onEnrolled }: { onEnrolled: (device: EnrolledDevice) => void }) {
  const [staff, setStaff] = useState<Staff | "loading" | "offline">("loading");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    deviceApi.auth.me
      .query()
      .then((me) => setStaff(me))
      .catch(() => setStaff("offline"));
  }, []);

  async function enrol(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const name = String(new FormData(event.currentTarget).get("name") ?? "");
    setBusy(true);
    setError(null);
    try {
      const device = await deviceApi.merchant.enrollDevice.mutate({ name });
      await saveDevice(device);
      onEnrolled(device);
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      setBusy(false);
    }
  }

  if (staff === "loading") return <p className="muted">Checking who is signed in…</p>;
  if (staff === "offline") {
    return (
      <div className="counter-panel">
        <h2>Connect to set up this device</h2>
        <p>Setting up a counter device needs the internet once. After that it works offline.</p>
      </div>
    );
  }
  if (staff?.role !== "merchant") {
    return (
      <div className="counter-panel">
        <h2>Set up this counter device</h2>
        <p>Sign in with a merchant staff account, then come back here to enrol this device.</p>
        <Link className="button" href="/sign-in">
          Sign in as staff
        </Link>
      </div>
    );
  }
  return (
    <form className="counter-panel form" onSubmit={enrol}>
      <h2>Set up this counter device</h2>
      <p className="muted">
        Signed in as {staff.displayName}. Give this device a name staff will recognise.
      </p>
      <label>
        Device name
        <input name="name" placeholder="Till 1" required maxLength={60} />
      </label>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <button type="submit" className="button" disabled={busy}>
        {busy ? "Enrolling…" : "Enrol this device"}
      </button>
    </form>
  );
}
