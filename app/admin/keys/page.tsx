import type { Metadata } from "next";
import { SigningKeys } from "./signing-keys";

export const metadata: Metadata = { title: "Signing keys" };

export default function SigningKeysPage() {
  return (
    <>
      <h1>Voucher signing keys</h1>
      <div className="admin-note">
        <p>
          Every voucher is signed, so counter devices can check it even offline. To rotate the key,
          a new key is first <strong>published</strong> (staged), so offline counter devices learn
          it when they next sync; only after the lead time does it <strong>start signing</strong>,
          and Dealdrop then switches to it by itself.
        </p>
        <p>The old key is retired but stays published while vouchers it signed are still valid.</p>
      </div>
      <SigningKeys />
    </>
  );
}
