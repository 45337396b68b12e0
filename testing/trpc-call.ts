import superjson, { type SuperJSONResult } from "superjson";
import { handleTrpcRequest } from "@/server/api/http-handler";
import type { Services } from "@/testing/wired-services";
import { testCaller } from "./test-caller";

export interface TrpcAnswer {
  status: number;
  data: unknown;
  error?: { message: string; data: { code: string; domainCode?: string; retryAfterMs?: number } };
  /** The session cookie the answer set, as a Cookie header value ("" when none). */
  cookie: string;
}

/**
 * One procedure over the real tRPC fetch handler, as the app's own pages call it: a query
 * as GET, anything else as POST, same-origin, with the given session cookie.
 */
export async function callTrpc(
  services: Services,
  path: string,
  input?: unknown,
  options: { cookie?: string; query?: boolean; address?: string } = {},
): Promise<TrpcAnswer> {
  const origin = "http://127.0.0.1";
  const headers: Record<string, string> = {
    "content-type": "application/json",
    origin,
    "sec-fetch-site": "same-origin",
  };
  if (options.cookie) headers.cookie = options.cookie;
  const payload = JSON.stringify(superjson.serialize(input));
  const url = `${origin}/api/trpc/${path}`;
  const response = await handleTrpcRequest(
    services,
    options.query
      ? new Request(`${url}?input=${encodeURIComponent(payload)}`, { headers })
      : new Request(url, { method: "POST", headers, body: payload }),
    testCaller(options.address),
  );
  const body = (await response.json()) as {
    result?: { data: SuperJSONResult };
    error?: { json: TrpcAnswer["error"] };
  };
  const setCookie = response.headers.get("set-cookie") ?? "";
  return {
    status: response.status,
    data: body.result ? superjson.deserialize(body.result.data) : undefined,
    error: body.error?.json,
    cookie: setCookie.startsWith("dd_session=") ? (setCookie.split(";")[0] ?? "") : "",
  };
}
