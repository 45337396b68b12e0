import Link from "next/link";

/**
 * Any address with no page. Next's own 404 page styles itself with an inline <style> that
 * carries no nonce, which the page policy refuses; this one uses the app's stylesheet.
 */
export default function NotFound() {
  return (
    <main className="page">
      <h1>Page not found</h1>
      <p>
        There is no page at this address. <Link href="/">See the deals near you</Link>.
      </p>
    </main>
  );
}
