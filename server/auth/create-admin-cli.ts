/**
 * `npm run admin:create -- --email you@example.com --name "Your Name"`: makes an admin
 * account in the configured database (DATABASE_URL, else the embedded one), asking for the
 * password on the terminal without showing it, twice. Scripts pipe it instead: the first
 * line of stdin is the password (`printf '%s\n' "$PASSWORD" | npm run admin:create -- …`).
 * Never on the command line, where `ps` and shell history would show it.
 */
import "../load-env";
import path from "node:path";
import { parseArgs } from "node:util";
import { openDatabase } from "@/db/client";
import { EnvError, parseEnv } from "../env";
import { DomainError } from "../errors";
import { createAdmin } from "./admin-account";
import { readHiddenLine, readStdinLine } from "./terminal-input";

async function main() {
  const { values } = parseArgs({
    options: { email: { type: "string" }, name: { type: "string" } },
  });
  if (!values.email || !values.name) {
    throw new DomainError(
      "INVALID_INPUT",
      'Name the admin: npm run admin:create -- --email you@example.com --name "Your Name"',
    );
  }
  const password = process.stdin.isTTY ? await askTwice() : await readStdinLine();
  const env = parseEnv();
  const database = await openDatabase({
    url: env.DATABASE_URL,
    dataDir: path.resolve(env.DATA_DIR, "pglite"),
  });
  try {
    const admin = await createAdmin(database.db, {
      email: values.email,
      displayName: values.name,
      password,
    });
    const url = env.PUBLIC_URL ?? `http://localhost:${env.PORT}`;
    console.log(`Admin ${admin.email} created. Sign in at ${url}/sign-in`);
  } finally {
    await database.close();
  }
}

async function askTwice(): Promise<string> {
  const password = await readHiddenLine("Password (at least 10 characters): ");
  if ((await readHiddenLine("The same password again: ")) !== password) {
    throw new DomainError("INVALID_INPUT", "The two passwords differ: nothing was created.");
  }
  return password;
}

main().catch((error: unknown) => {
  if (DomainError.is(error) || error instanceof EnvError) console.error(error.message);
  else console.error(error);
  process.exit(1);
});
