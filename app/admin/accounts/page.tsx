import type { Metadata } from "next";
import { AccountList } from "./account-list";

export const metadata: Metadata = { title: "Accounts" };

export default function AccountsPage() {
  return (
    <>
      <h1>Accounts</h1>
      <p className="admin-lead">
        Everyone who can sign in. Deactivating an account ends its sessions on every server at once
        and refuses its sign-in until you reactivate it; counter devices its owner enrolled are held
        until the shop keeps or revokes them.
      </p>
      <AccountList />
    </>
  );
}
