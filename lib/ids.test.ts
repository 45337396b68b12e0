import { describe, expect, it } from "vitest";
import { idSchema, newId } from "./ids";

describe("newId", () => {
  it("makes valid ids that do not repeat, across refills of its random pool", () => {
    const ids = Array.from({ length: 20_000 }, newId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(idSchema.safeParse(id).success).toBe(true);
  });
});
