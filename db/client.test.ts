import { expect, it } from "vitest";
import { reconnectBackoff } from "./client";

it("a connection waits at most a second between attempts, however many have failed", () => {
  for (let failures = 0; failures <= 1_000; failures++) {
    const seconds = reconnectBackoff(failures);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(1);
  }
  // It grows: the first retries come quickly, later ones at most every second.
  expect(reconnectBackoff(1)).toBeLessThanOrEqual(0.05);
  expect(reconnectBackoff(100)).toBeGreaterThanOrEqual(0.5);
});
