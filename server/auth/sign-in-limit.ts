import { CredentialsSignin } from "next-auth";

/**
 * Thrown from authorize() when the email or the IP has had too many failed
 * sign-ins; next-auth passes CredentialsSignin subclasses through unchanged, so
 * the sign-in action can tell the person how long to wait.
 */
export class SignInRateLimited extends CredentialsSignin {
  code = "rate_limited";
  constructor(readonly retryAfterMinutes: number) {
    super(`Sign-in blocked for ${retryAfterMinutes} min`);
  }
}

export const signInRateLimitedMessage = (minutes: number) =>
  `Too many sign-in attempts; try again in ${minutes} ${minutes === 1 ? "minute" : "minutes"}`;

export const minutesUntil = (moment: Date) => Math.max(1, Math.ceil((moment.getTime() - Date.now()) / 60_000));

/**
 * The client's address, counted from the right of X-Forwarded-For: each proxy in
 * front of the web appends the address it was reached from, so with `trustedHops`
 * proxies the entry `trustedHops` from the right is the one the outermost proxy saw,
 * and whatever a client wrote to the left of it is ignored. Vercel-style hosts
 * replace the header with the client's address (one entry, one hop). Without any
 * proxy, Next fills the header with the socket's address only when the client sent
 * none, so a client can name its own address; the per-email limit holds regardless.
 */
export function clientIp(headers: Headers, trustedHops: number) {
  const entries = (headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  // Fewer entries than proxies: the header did not pass through them all; the leftmost is the farthest seen.
  const forwarded = entries[Math.max(0, entries.length - trustedHops)];
  return forwarded || headers.get("x-real-ip")?.trim() || "unknown";
}
