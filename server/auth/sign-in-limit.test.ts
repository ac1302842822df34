import { describe, expect, it } from "vitest";
import { clientIp, signInRateLimitedMessage } from "./sign-in-limit";

describe("sign-in limit helpers", () => {
  it("takes the client's address from X-Forwarded-For, as many entries from the right as there are trusted proxies", () => {
    const spoofed = new Headers({ "x-forwarded-for": "198.51.100.66, 203.0.113.7, 10.0.0.1" });
    expect(clientIp(spoofed, 1)).toBe("10.0.0.1");
    expect(clientIp(spoofed, 2)).toBe("203.0.113.7");
    expect(clientIp(spoofed, 5)).toBe("198.51.100.66");
    expect(clientIp(new Headers({ "x-forwarded-for": "203.0.113.7" }), 1)).toBe("203.0.113.7");
    expect(clientIp(new Headers({ "x-forwarded-for": " , 203.0.113.7 ," }), 1)).toBe("203.0.113.7");
    expect(clientIp(new Headers({ "x-real-ip": " 198.51.100.2 " }), 1)).toBe("198.51.100.2");
    expect(clientIp(new Headers({ "x-forwarded-for": " " }), 1)).toBe("unknown");
    expect(clientIp(new Headers(), 1)).toBe("unknown");
  });

  it("says how long to wait", () => {
    expect(signInRateLimitedMessage(15)).toBe("Too many sign-in attempts; try again in 15 minutes");
    expect(signInRateLimitedMessage(1)).toBe("Too many sign-in attempts; try again in 1 minute");
  });
});
