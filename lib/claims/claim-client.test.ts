import { describe, expect, it } from "vitest";
import { ApiRequestError } from "../wire/read-api-error";
import { retryWhileBusy } from "./claim-client";

const busy = (retryAfterMs?: number) =>
  new ApiRequestError(503, {
    code: "SERVICE_UNAVAILABLE",
    domainCode: "UNAVAILABLE",
    message: "The sale is very busy: trying again.",
    retryAfterMs,
  });

describe("retryWhileBusy", () => {
  it("sends again after the delay a 503 asks for, saying so each time, until an answer", async () => {
    const answers: (Error | string)[] = [busy(800), busy(), "WON"];
    const waits: number[] = [];
    const slept: number[] = [];
    const result = await retryWhileBusy(
      async () => {
        const next = answers.shift();
        if (next instanceof Error) throw next;
        return next;
      },
      { onBusy: (ms) => waits.push(ms), sleep: async (ms) => void slept.push(ms) },
    );
    expect(result).toBe("WON");
    expect(waits).toEqual([800, 1_000]);
    expect(slept).toEqual(waits);
  });

  it("leaves every other refusal to the caller, and gives up on a gate busy too long", async () => {
    const limited = new ApiRequestError(429, {
      code: "TOO_MANY_REQUESTS",
      message: "Too many claim attempts.",
      retryAfterMs: 500,
    });
    let sends = 0;
    const sleep = async () => {};
    await expect(
      retryWhileBusy(
        async () => {
          sends++;
          throw limited;
        },
        { sleep },
      ),
    ).rejects.toBe(limited);
    expect(sends).toBe(1);

    sends = 0;
    await expect(
      retryWhileBusy(
        async () => {
          sends++;
          throw busy(5_000);
        },
        { sleep },
      ),
    ).rejects.toMatchObject({ status: 503 });
    expect(sends).toBe(5);
  });
});
