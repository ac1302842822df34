import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cachedFor } from "./cached";

describe("cachedFor", () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ["performance"] }));
  afterEach(() => vi.useRealTimers());

  it("loads once per period, shares the call under way, and loads again after it", async () => {
    let calls = 0;
    const read = cachedFor(5_000, async () => ++calls);
    expect(await Promise.all([read(), read()])).toEqual([1, 1]);
    vi.advanceTimersByTime(4_999);
    expect(await read()).toBe(1);
    vi.advanceTimersByTime(1);
    expect(await read()).toBe(2);
  });

  it("does not keep a failure", async () => {
    let calls = 0;
    const read = cachedFor(5_000, async () => {
      calls += 1;
      if (calls === 1) throw new Error("database unreachable");
      return calls;
    });
    await expect(read()).rejects.toThrow("database unreachable");
    expect(await read()).toBe(2);
  });
});
