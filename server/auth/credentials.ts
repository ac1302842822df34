import type { Database } from "@/db";
import { beginSignInAttempt, clearSignInFailures } from "@/db/queries/sign-in-failures";
import { getUserCredentials } from "@/db/queries/users";
import { getUnknownUserHash, verifyPassword } from "./password";
import { minutesUntil, SignInRateLimited } from "./sign-in-limit";

/**
 * The credentials check behind next-auth's authorize(): the signed-in person, null for a
 * wrong email or password, or SignInRateLimited thrown when the email or the IP is blocked.
 * The attempt counts as a failure from before the password is checked, so a burst of
 * concurrent guesses gets no more checks than the limit allows.
 */
export async function authorizeCredentials(
  database: Database,
  credentials: { email: string; password: string; ip: string },
): Promise<{ id: string; email: string; sessionGeneration: number } | null> {
  const attempt = { email: credentials.email, ip: credentials.ip };
  const { blockedUntil } = await beginSignInAttempt(database, attempt);
  if (blockedUntil) throw new SignInRateLimited(minutesUntil(blockedUntil));
  const user = await getUserCredentials(database, { email: credentials.email });
  // An unknown email costs the same Argon2 verification as a wrong password.
  const isValid = await verifyPassword(user?.passwordHash ?? (await getUnknownUserHash()), credentials.password);
  if (!user || !isValid) return null;
  await clearSignInFailures(database, attempt);
  return { id: user.id, email: user.email, sessionGeneration: user.sessionGeneration };
}
