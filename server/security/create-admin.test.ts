import { spawn } from "node:child_process";
import path from "node:path";
import { count, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { newId } from "@/lib/ids";
import { withTestServices } from "@/testing/test-services";

const world = withTestServices();
const TSX = path.join(process.cwd(), "node_modules/.bin/tsx");
const CLI = ["--conditions=react-server", "server/auth/create-admin-cli.ts"];

interface Finished {
  code: number | null;
  output: string;
}

/** Runs `npm run admin:create`'s script with `stdin` piped in, as a deployment script would. */
function runPiped(args: string[], stdin: string): Promise<Finished> {
  const child = spawn(TSX, [...CLI, ...args], {
    env: { ...process.env, DATABASE_URL: world.database.url, LOG_LEVEL: "silent" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, output })));
}

/**
 * Runs it on a terminal (util-linux `script` gives it a pseudo-terminal), typing each answer
 * once its prompt shows: typed before the program turns echo off, the terminal would echo it.
 */
function runOnTerminal(args: string[], answers: [prompt: RegExp, typed: string][]) {
  const command = [TSX, ...CLI, ...args].map((part) => `'${part}'`).join(" ");
  const child = spawn("script", ["-qefc", command, "/dev/null"], {
    env: { ...process.env, DATABASE_URL: world.database.url, LOG_LEVEL: "silent" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  const pending = [...answers];
  child.stdout.on("data", (chunk) => {
    output += chunk;
    const next = pending[0];
    if (next?.[0].test(output)) {
      pending.shift();
      child.stdin.write(`${next[1]}\r`);
    }
  });
  return new Promise<Finished>((resolve) =>
    child.once("close", (code) => resolve({ code, output })),
  );
}

const adminsNamed = async (email: string) =>
  (await world.database.db.select({ n: count() }).from(users).where(eq(users.email, email)))[0]
    ?.n ?? 0;

describe("issue 14 item 4: npm run admin:create makes the first admin", () => {
  it("creates an admin from a piped password, who can then sign in as admin", async () => {
    const email = `first-admin-${newId().toLowerCase()}@example.test`;
    const password = "a long admin password";
    const run = await runPiped(["--email", email, "--name", "First Admin"], `${password}\n`);
    expect(run, run.output).toMatchObject({ code: 0 });
    expect(run.output).toContain(`Admin ${email} created`);
    expect(run.output).not.toContain(password);
    const session = await world.services.auth.signIn({ email, password }, "192.0.2.40");
    expect(session).toMatchObject({ role: "admin", displayName: "First Admin" });
  });

  it("asks on a terminal without echoing, twice", async () => {
    const email = `tty-admin-${newId().toLowerCase()}@example.test`;
    const password = "typed-on-the-terminal";
    const run = await runOnTerminal(
      ["--email", email, "--name", "Terminal Admin"],
      [
        [/Password[^\n]*: $/, password],
        [/again: $/, password],
      ],
    );
    expect(run, run.output).toMatchObject({ code: 0 });
    expect(run.output).toContain(`Admin ${email} created`);
    expect(run.output).not.toContain(password);
    expect(await adminsNamed(email)).toBe(1);
  });

  it("refuses a taken email, a short password and a missing name, creating nothing", async () => {
    const email = `taken-admin-${newId().toLowerCase()}@example.test`;
    expect((await runPiped(["--email", email, "--name", "One"], "long enough pw\n")).code).toBe(0);
    const again = await runPiped(["--email", email, "--name", "Two"], "another long pw\n");
    expect(again).toMatchObject({ code: 1, output: expect.stringContaining("already exists") });
    const otherEmail = `short-${newId().toLowerCase()}@example.test`;
    const short = await runPiped(["--email", otherEmail, "--name", "Short"], "short\n");
    expect(short).toMatchObject({ code: 1, output: expect.stringContaining("at least 10") });
    const unnamed = await runPiped(["--email", otherEmail], "long enough pw\n");
    expect(unnamed).toMatchObject({ code: 1, output: expect.stringContaining("--name") });
    expect(await adminsNamed(email)).toBe(1);
    expect(await adminsNamed(otherEmail)).toBe(0);
  });
});
