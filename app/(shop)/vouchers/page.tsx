import { MyVouchers } from "./my-vouchers";

export default function MyVouchersPage() {
  return (
    <section>
      <h1>My vouchers</h1>
      <p className="muted">Show the QR code at the counter. Each voucher works once.</p>
      <MyVouchers />
    </section>
  );
}
