import Link from "next/link";
import { SiteHeader } from "./(shop)/site-header";

/**
 * Any address with no page. Next's own 404 page styles itself with an inline <style> that
 * carries no nonce, which the page policy refuses; this one uses the app's stylesheet, with
 * the storefront's header so the person can carry on from it.
 */
export default function NotFound() {
  return (
    <>
      <SiteHeader />
      <main className="page">
        <section className="card not-found" aria-labelledby="not-found-title">
          <p className="not-found-code" aria-hidden="true">
            404
          </p>
          <h1 id="not-found-title">Page not found</h1>
          <p className="muted">
            There is no page at this address. The link may be mistyped, or the deal it pointed to
            has gone.
          </p>
          <p>
            <Link className="button" href="/">
              See the deals near you
            </Link>
          </p>
        </section>
      </main>
    </>
  );
}
