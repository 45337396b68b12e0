import { DealList } from "./deal-list";

export default function StorefrontPage() {
  return (
    <>
      <section className="hero">
        <h1>Flash deals around you</h1>
        <p>Each deal has a fixed number of units. Claim one in the first seconds of a sale.</p>
      </section>
      <DealList />
    </>
  );
}
