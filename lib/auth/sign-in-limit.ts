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
 * The client's address: the first X-Forwarded-For entry, which Vercel-style hosts
 * and a reverse proxy set, and which Next itself fills with the socket's address
 * when no proxy did. A proxy that appends to a client-sent header instead of
 * replacing it lets a client pick its own "IP"; the per-email limit still holds then.
 */
export function clientIp(headers: Headers) {
  const forwarded = headers.get("x-forwarded-for")?.split(",")[0]?.trim();
  return forwarded || headers.get("x-real-ip")?.trim() || "unknown";
}
