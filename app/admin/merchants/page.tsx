import type { Metadata } from "next";
import { MerchantList } from "./merchant-list";
import { NewMerchant } from "./new-merchant";

export const metadata: Metadata = { title: "Merchants" };

export default function MerchantsPage() {
  return (
    <>
      <h1>Merchants</h1>
      <p className="admin-lead">
        The shops that sell on Dealdrop. Open one to edit it, see its staff or invite someone.
      </p>
      <div className="admin-columns">
        <MerchantList />
        <NewMerchant />
      </div>
    </>
  );
}
