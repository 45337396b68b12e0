import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { envSchema } from "./env";

const lines = readFileSync(path.join(process.cwd(), ".env.example"), "utf8").split("\n");
const VARIABLE = /^#? ?([A-Z][A-Z0-9_]*)=/;

/** The variables .env.example names (set or commented out), each with the comment above it. */
function documented(): Map<string, string> {
  const found = new Map<string, string>();
  let comment: string[] = [];
  let afterVariable = false;
  for (const line of lines) {
    const name = VARIABLE.exec(line)?.[1];
    if (name) {
      // Variables listed together (Stripe's three keys) share the comment above them.
      found.set(name, comment.join(" "));
      afterVariable = true;
    } else if (line.startsWith("#")) {
      if (afterVariable) comment = [];
      comment.push(line.slice(1).trim());
      afterVariable = false;
    } else {
      comment = [];
      afterVariable = false;
    }
  }
  return found;
}

describe("issue 21 item 5: .env.example documents every variable of server/env.ts", () => {
  it("names each variable server/env.ts reads, and no other", () => {
    expect([...documented().keys()].sort()).toEqual(Object.keys(envSchema.shape).sort());
  });

  it("says what each one means", () => {
    for (const [name, meaning] of documented()) {
      expect(meaning.length, `${name} has no comment above it`).toBeGreaterThan(10);
    }
  });
});
