import "server-only";
import { randomBytes } from "node:crypto";
import { isCounterArea } from "@/lib/security/counter-area";

/**
 * The security headers, in one place. Every answer the edge writes (JSON, streams, static
 * files, pages) starts with `securityHeaders`; proxy.ts then gives each page a policy of its
 * own with a fresh nonce (`pagePolicy`) in place of the answers' policy.
 */

/** 128 bits from the CSPRNG: a page's script nonce, new for every request. */
export function newNonce(): string {
  return randomBytes(16).toString("base64");
}

/**
 * What a page may load and run. Scripts run only with this answer's nonce, which Next puts on
 * its own script and style tags; 'strict-dynamic' lets those load the chunks they import, so
 * no host list is needed ('self' is only for browsers that predate 'strict-dynamic').
 * `next dev` (only) needs eval for React's debugging and injects styles with no nonce.
 */
export function pagePolicy(nonce: string, { dev = false }: { dev?: boolean } = {}): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    `style-src 'self' ${dev ? "'unsafe-inline'" : `'nonce-${nonce}'`}`,
    // React renders a bar's width and a chart's colours as style attributes; an attribute
    // cannot run script or load anything, and every other style needs the nonce.
    "style-src-attr 'unsafe-inline'",
    // The counter's photo scanner draws the picture from a blob: URL.
    "img-src 'self' blob:",
    // tRPC, the claim route and live stock (EventSource): the same origin only.
    "connect-src 'self'",
    // The counter's service worker, /serwist/sw.js.
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** For everything that is not a page (JSON, streams, files): nothing to run, never framed. */
export const ANSWER_POLICY = "default-src 'none'; frame-ancestors 'none'";

/**
 * Only the counter app uses the camera; the storefront asks for the shopper's position
 * (deals near me); nothing asks for the rest.
 */
const CAMERA_HERE = "camera=(self), microphone=(), geolocation=(self), payment=(), usb=()";
const NO_CAMERA = "camera=(), microphone=(), geolocation=(self), payment=(), usb=()";

/**
 * A year, and for the app's subdomains too: once a browser has seen the site over HTTPS it
 * never again tries plain HTTP (no `preload`: the preload list is an opt-in by the deployer).
 */
const HSTS = "max-age=31536000; includeSubDomains";

export type HeaderList = readonly (readonly [name: string, value: string])[];

/** PUBLIC_URL is where the app is served; without it, it is plain HTTP on a local port. */
export function servedOverHttps(publicUrl: string | undefined): boolean {
  return publicUrl !== undefined && new URL(publicUrl).protocol === "https:";
}

/**
 * API answers (JSON, streams) are read by scripts, never shown: a policy header and a
 * referrer or permissions policy would change nothing for them, and the claim route pays
 * for each header it sends. Everything else may be a document, or a file a document loads.
 */
type AnswerKind = "api" | "counter" | "site";

function answerKind(pathname: string): AnswerKind {
  if (pathname.startsWith("/api/")) return "api";
  return isCounterArea(pathname) ? "counter" : "site";
}

function headersFor(kind: AnswerKind, https: boolean): HeaderList {
  const every = [
    ["x-content-type-options", "nosniff"],
    ["content-security-policy", ANSWER_POLICY],
    ...(https ? [["strict-transport-security", HSTS] as const] : []),
  ] as const;
  if (kind === "api") return every;
  return [
    ...every,
    // The full address stays on the site: invitation tokens and voucher ids sit in paths.
    // Same-origin requests still carry it, and the Origin header is unaffected.
    ["referrer-policy", "same-origin"],
    ["permissions-policy", kind === "counter" ? CAMERA_HERE : NO_CAMERA],
  ];
}

/**
 * The headers an answer for `pathname` carries. HSTS only when the app is served over
 * HTTPS (its PUBLIC_URL says so): sent over plain HTTP it would be ignored at best.
 */
export function securityHeaders(pathname: string, { https }: { https: boolean }): HeaderList {
  return headersFor(answerKind(pathname), https);
}

/**
 * For a node:http server: sets the headers on each answer before a route writes it (a
 * route's own `writeHead` headers still win). The lists are built once, not per request.
 */
export function createSecurityHeaderSetter({ https }: { https: boolean }) {
  const lists: Record<AnswerKind, HeaderList> = {
    api: headersFor("api", https),
    counter: headersFor("counter", https),
    site: headersFor("site", https),
  };
  return (url = "/", res: { setHeader(name: string, value: string): unknown }) => {
    const query = url.indexOf("?");
    for (const [name, value] of lists[answerKind(query === -1 ? url : url.slice(0, query))]) {
      res.setHeader(name, value);
    }
  };
}
