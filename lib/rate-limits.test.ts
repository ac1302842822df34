import { describe, expect, it } from "vitest";
import { decideRate } from "./rate-limits";

describe("decideRate", () => {
  const inHalfAMinute = () => new Date(Date.now() + 30_000).toISOString();

  it("lets the budget's last request through and refuses the next, with the headers and Retry-After a client needs", () => {
    const last = decideRate("api", { tier: "free", requestsInWindow: 120, windowResetsAt: inHalfAMinute() });
    expect(last.isAllowed).toBe(true);
    expect(last.headers).toMatchObject({ "RateLimit-Limit": "120", "RateLimit-Remaining": "0" });
    const next = decideRate("api", { tier: "free", requestsInWindow: 121, windowResetsAt: inHalfAMinute() });
    expect(next.isAllowed).toBe(false);
    expect(next.resetSeconds).toBeGreaterThanOrEqual(29);
    expect(next.resetSeconds).toBeLessThanOrEqual(30);
    expect(next.message).toMatch(/^A free account may make 120 API requests a minute; try again in \d+ s$/);
  });

  it("gives each door and tier its own budget, and never a Retry-After below a second", () => {
    const webdav = decideRate("webdav", { tier: "pro", requestsInWindow: 12_001, windowResetsAt: new Date(Date.now() - 5) });
    expect(webdav).toMatchObject({ isAllowed: false, limit: 12_000, resetSeconds: 1 });
    expect(webdav.message).toBe("A pro account may make 12000 WebDAV requests a minute; try again in 1 s");
  });
});
