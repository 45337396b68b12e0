"use client";

import QRCode from "qrcode";
import { useEffect, useState } from "react";
import { voucherQrText } from "@/lib/vouchers/voucher-qr";

/** The voucher as a large black-on-white QR code, packed small so that it scans fast. */
export function VoucherQrCode({ token }: { token: string }) {
  const [svg, setSvg] = useState<string | null>(null);
  useEffect(() => {
    let text: string;
    try {
      text = voucherQrText(token);
    } catch {
      text = token;
    }
    QRCode.toString(text, { type: "svg", errorCorrectionLevel: "M", margin: 4 }).then(setSvg);
  }, [token]);
  return (
    <div
      className="voucher-qr"
      role="img"
      aria-label="Voucher QR code"
      data-testid="voucher-qr"
      // The SVG is generated here from the token, never from user-supplied markup.
      // biome-ignore lint/security/noDangerouslySetInnerHtml: qrcode's own SVG output
      dangerouslySetInnerHTML={svg ? { __html: svg } : undefined}
    />
  );
}
