import { TIER_LIMITS, type Tier } from "./tiers";

/**
 * Where a request comes in, for the per-person rate limits: "api" is the Jobs API and the page's
 * routes that accept work (they share one budget, so a script cannot go around the API's limit
 * through the page's upload route); "webdav" is the WebDAV server, whose budget is larger because
 * a mounted drive sends a request per file and folder.
 */
export type RequestDoor = "api" | "webdav";

/** A person's rate window for a door, as db/queries/rate-windows.ts counted it. */
export type RequestWindow = { tier: Tier; requestsInWindow: number; windowResetsAt: string | Date };

export type RateDecision = {
  isAllowed: boolean;
  limit: number;
  /** Seconds until the window resets (at least 1): Retry-After when refused. */
  resetSeconds: number;
  /** RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset, for every answer. */
  headers: Record<string, string>;
  /** Why a refused request was refused, for its 429. */
  message: string;
};

const WHAT: Record<RequestDoor, string> = { api: "API requests", webdav: "WebDAV requests" };

/** Whether a counted request is within its person's budget for the door, and what to tell the client. */
export function decideRate(door: RequestDoor, window: RequestWindow, what = WHAT[door]): RateDecision {
  const limits = TIER_LIMITS[window.tier];
  const limit = limits.requestsPerMinute[door];
  const resetSeconds = Math.max(1, Math.ceil((new Date(window.windowResetsAt).getTime() - Date.now()) / 1000));
  return {
    isAllowed: window.requestsInWindow <= limit,
    limit,
    resetSeconds,
    headers: {
      "RateLimit-Limit": String(limit),
      "RateLimit-Remaining": String(Math.max(0, limit - window.requestsInWindow)),
      "RateLimit-Reset": String(resetSeconds),
    },
    message: `A ${limits.label} account may make ${limit} ${what} a minute; try again in ${resetSeconds} s`,
  };
}
