import { db } from "@/db";
import { endUserSessions, getSessionGeneration } from "@/db/queries/users";

/**
 * Sessions are JWT cookies that cannot be recalled, so each carries its person's session
 * generation from sign-in (users.sessionGeneration) and is over once that number has moved on.
 * A token without one (issued before generations existed) counts as generation 0.
 */
export const sessionGenerationOf = (token: { sessionGeneration?: unknown }) =>
  typeof token.sessionGeneration === "number" ? token.sessionGeneration : 0;

/** Whether the session has not been ended by a sign-out since. A deleted account's session stays (it owns nothing). */
export async function isCurrentSession(token: { sub?: string; sessionGeneration?: unknown }) {
  if (!token.sub) return false;
  const current = await getSessionGeneration(db, { userId: token.sub });
  return current === null || current === sessionGenerationOf(token);
}

type DecodedSessions = Map<string, { user: { id: string; email: string }; validUntil: number }>;
// On globalThis: Next bundles route handlers and server actions (where sign-out runs) apart, each
// with its own copy of this module, and a sign-out must reach the route handlers' cache.
const globalForSessions = globalThis as { longrunDecodedSessions?: DecodedSessions };
/**
 * Route handlers' decoded session cookies, by the cookie's exact string (a browser polls with the
 * same cookie several times a second), each kept at most SESSION_CACHE_MS: the longest another web
 * instance keeps answering a session that a sign-out elsewhere has ended.
 */
export const decodedSessions = (globalForSessions.longrunDecodedSessions ??= new Map() as DecodedSessions);
export const SESSION_CACHE_MS = 60_000;

/** Ends every session of the person, on every device; this process forgets them at once. */
export async function endSessions(userId: string) {
  await endUserSessions(db, { userId });
  for (const [cookie, { user }] of decodedSessions) if (user.id === userId) decodedSessions.delete(cookie);
}
