import type { Metadata } from "next";
import { AccountSettings } from "./account-settings";

export const metadata: Metadata = { title: "Your account · Dealdrop" };

export default function AccountPage() {
  return (
    <section className="narrow">
      <AccountSettings />
    </section>
  );
}
