import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { logFormat } from "./log";

/** What one line logged by server/log.ts looks like in a process started with `env`. */
function lineLogged(env: { NODE_ENV: "development" | "production" }): string {
  const tsx = path.join(process.cwd(), "node_modules", ".bin", "tsx");
  const script = 'import("./server/log.ts").then(({ log }) => log.info({ n: 1 }, "hello"));';
  return execFileSync(tsx, ["--conditions=react-server", "-e", script], {
    env: { PATH: process.env.PATH ?? "", ENV_FILE: "none", ...env },
    encoding: "utf8",
  }).trim();
}

describe("issue 21 item 5: pretty logs in development, JSON in production", () => {
  it("chooses by LOG_FORMAT, else by NODE_ENV", () => {
    expect(logFormat({ NODE_ENV: "development" })).toBe("pretty");
    expect(logFormat({ NODE_ENV: "production" })).toBe("json");
    expect(logFormat({})).toBe("json");
    expect(logFormat({ NODE_ENV: "development", LOG_FORMAT: "json" })).toBe("json");
    expect(logFormat({ NODE_ENV: "production", LOG_FORMAT: "pretty" })).toBe("pretty");
  });

  it("writes a readable line in development and one JSON object in production", () => {
    const pretty = lineLogged({ NODE_ENV: "development" });
    expect(pretty).toMatch(/INFO.*hello/);
    expect(() => JSON.parse(pretty)).toThrow();
    expect(JSON.parse(lineLogged({ NODE_ENV: "production" }))).toMatchObject({
      level: 30,
      msg: "hello",
      n: 1,
      app: "dealdrop",
    });
  });
});
