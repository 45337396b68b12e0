import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseEnv as parseDotenv } from "node:util";

/**
 * Reads a `.env` file into the environment, as a newcomer expects after `cp .env.example .env`:
 * `ENV_FILE` names the file (default `.env` in the working folder, skipped when absent), and
 * `ENV_FILE=none` reads none (the tests set it, so a developer's `.env` never reaches them).
 * A variable already in the environment wins over the file. Returns the file read, if any.
 */
export function loadEnvFile(
  env: Record<string, string | undefined> = process.env,
  cwd = process.cwd(),
): string | null {
  const named = env.ENV_FILE?.trim();
  if (named === "none") return null;
  const file = path.resolve(cwd, named || ".env");
  if (!existsSync(file)) {
    if (named) throw new Error(`ENV_FILE: ${file} does not exist (ENV_FILE=none reads no file)`);
    return null;
  }
  for (const [name, value] of Object.entries(parseDotenv(readFileSync(file, "utf8")))) {
    if (env[name] === undefined) env[name] = value;
  }
  return file;
}
