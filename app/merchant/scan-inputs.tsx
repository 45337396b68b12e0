"use client";

import type { Html5Qrcode } from "html5-qrcode";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { decodeQrPhoto } from "./decode-photo";

/** A code kept in view is one scan: it counts again only after it has been away this long. */
const SAME_CODE_QUIET_MS = 4_000;

async function createScanner(elementId: string): Promise<Html5Qrcode> {
  const { Html5Qrcode, Html5QrcodeSupportedFormats } = await import("html5-qrcode");
  return new Html5Qrcode(elementId, {
    verbose: false,
    formatsToSupport: [Html5QrcodeSupportedFormats.QR_CODE],
  });
}

/** Three ways in: the camera (continuous), a photo of the code, or the code typed or pasted. */
export function ScanInputs({
  onCode,
  disabled,
}: {
  onCode: (text: string) => void;
  disabled: boolean;
}) {
  const camera = useRef<Html5Qrcode | null>(null);
  const lastSeen = useRef<{ text: string; at: number } | null>(null);
  const onCodeRef = useRef(onCode);
  onCodeRef.current = onCode;
  const [cameraOn, setCameraOn] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => () => void camera.current?.stop().catch(() => undefined), []);

  async function startCamera() {
    setProblem(null);
    try {
      camera.current ??= await createScanner("camera-view");
      await camera.current.start(
        { facingMode: "environment" },
        { fps: 10, qrbox: { width: 260, height: 260 } },
        (text) => {
          const now = Date.now();
          const seen = lastSeen.current;
          lastSeen.current = { text, at: now };
          if (seen && seen.text === text && now - seen.at < SAME_CODE_QUIET_MS) return;
          onCodeRef.current(text);
        },
        () => undefined,
      );
      setCameraOn(true);
    } catch (error) {
      setProblem(
        `The camera could not start: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  async function stopCamera() {
    await camera.current?.stop().catch(() => undefined);
    setCameraOn(false);
  }

  async function scanPhoto(file: File | undefined) {
    if (!file) return;
    setProblem(null);
    let text: string | null;
    try {
      text = await decodeQrPhoto(file, "photo-scan-area");
    } catch (error) {
      setProblem(
        `The scanner could not read the picture (${String(error)}). Type the code instead.`,
      );
      return;
    }
    if (text) onCode(text);
    else setProblem("No QR code found in that picture. Try again closer, or type the code.");
  }

  function submitTyped(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const field = event.currentTarget.elements.namedItem("code") as HTMLTextAreaElement;
    if (field.value.trim()) onCode(field.value);
    field.value = "";
  }

  return (
    <section className="counter-panel scan" aria-label="Scan a voucher">
      {/* Always laid out (empty when off): the scanner sizes its video from this box. */}
      <div id="camera-view" className="camera-view" />
      <div id="photo-scan-area" hidden />
      <div className="scan-actions">
        {cameraOn ? (
          <button type="button" className="button button-secondary" onClick={stopCamera}>
            Stop camera
          </button>
        ) : (
          <button type="button" className="button" onClick={startCamera} disabled={disabled}>
            Scan with camera
          </button>
        )}
        <label className={`button button-secondary${disabled ? " is-disabled" : ""}`}>
          Scan a photo
          <input
            type="file"
            accept="image/*"
            className="visually-hidden"
            disabled={disabled}
            data-testid="scan-photo"
            onChange={(event) => {
              void scanPhoto(event.currentTarget.files?.[0]);
              event.currentTarget.value = "";
            }}
          />
        </label>
      </div>
      <form className="typed-code" onSubmit={submitTyped}>
        <label htmlFor="typed-code">Or type or paste the code</label>
        <textarea id="typed-code" name="code" rows={2} disabled={disabled} />
        <button type="submit" className="button button-secondary" disabled={disabled}>
          Check code
        </button>
      </form>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
    </section>
  );
}
