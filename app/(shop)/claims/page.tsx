import { MyClaims } from "./my-claims";

export default function MyClaimsPage() {
  return (
    <section>
      <h1>My claims</h1>
      <MyClaims />
    </section>
  );
}
