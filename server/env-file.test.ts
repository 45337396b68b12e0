import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadEnvFile } from "./env-file";

const folder = mkdtempSync(path.join(tmpdir(), "dealdrop-env-"));
writeFileSync(path.join(folder, ".env"), "PORT=4000\nLOG_LEVEL=debug\n# a comment\n");
writeFileSync(path.join(folder, "staging.env"), "PORT=5000\n");
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe("issue 21 item 5: .env read at start", () => {
  it("reads .env from the working folder; the environment wins over it", () => {
    const env: Record<string, string | undefined> = { LOG_LEVEL: "warn" };
    expect(loadEnvFile(env, folder)).toBe(path.join(folder, ".env"));
    expect(env).toEqual({ PORT: "4000", LOG_LEVEL: "warn" });
  });

  it("reads the file ENV_FILE names, and none with ENV_FILE=none", () => {
    const named: Record<string, string | undefined> = { ENV_FILE: "staging.env" };
    loadEnvFile(named, folder);
    expect(named.PORT).toBe("5000");
    const none: Record<string, string | undefined> = { ENV_FILE: "none" };
    expect(loadEnvFile(none, folder)).toBeNull();
    expect(none).toEqual({ ENV_FILE: "none" });
  });

  it("says so when the file ENV_FILE names is missing, and reads nothing", () => {
    const env: Record<string, string | undefined> = { ENV_FILE: "missing.env" };
    expect(() => loadEnvFile(env, folder)).toThrow(/ENV_FILE: .*missing.env does not exist/);
    expect(env).toEqual({ ENV_FILE: "missing.env" });
  });

  it("is off in the tests themselves", () => {
    expect(process.env.ENV_FILE).toBe("none");
  });
});
