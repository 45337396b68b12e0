import { request } from "node:http";

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * One HTTP request from a loopback address of the test's choosing (127.0.0.2, …): a client
 * the server sees as another peer, which fetch cannot make. `body` is sent with a
 * Content-Length, or chunked when `chunked` is set.
 */
export function sendFrom(
  localAddress: string,
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; chunked?: boolean },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const { method = "GET", headers = {}, body, chunked } = options;
    const sent = { ...headers };
    if (body !== undefined) {
      if (chunked) sent["transfer-encoding"] = "chunked";
      else sent["content-length"] = String(Buffer.byteLength(body));
    }
    const req = request(url, { method, headers: sent, localAddress }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}
