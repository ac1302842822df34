import { asc, eq, sql } from "drizzle-orm";
import type { Executor } from "../client";
import { users, type User } from "../schema";

export type UserSummary = Pick<User, "id" | "email" | "tier" | "role" | "createdAt">;
export type Role = User["role"];

export async function listUsers(executor: Executor): Promise<UserSummary[]> {
  return executor
    .select({ id: users.id, email: users.email, tier: users.tier, role: users.role, createdAt: users.createdAt })
    .from(users)
    .orderBy(asc(users.email))
    .limit(1000);
}

/** A person's role, or null when the account no longer exists. */
export async function getUserRole(executor: Executor, args: { userId: string }): Promise<Role | null> {
  const [user] = await executor.select({ role: users.role }).from(users).where(eq(users.id, args.userId));
  return user?.role ?? null;
}

/** The person's current session generation (see users.sessionGeneration); null for a deleted account. */
export async function getSessionGeneration(executor: Executor, args: { userId: string }): Promise<number | null> {
  const [user] = await executor.select({ sessionGeneration: users.sessionGeneration }).from(users).where(eq(users.id, args.userId));
  return user?.sessionGeneration ?? null;
}

/** Ends every session the person has: each carries an older generation from now on. */
export async function endUserSessions(executor: Executor, args: { userId: string }) {
  await executor
    .update(users)
    .set({ sessionGeneration: sql`${users.sessionGeneration} + 1` })
    .where(eq(users.id, args.userId));
}

/** What sign-in checks a password against; undefined for an unknown email. */
export async function getUserCredentials(executor: Executor, args: { email: string }) {
  const [user] = await executor
    .select({ id: users.id, email: users.email, passwordHash: users.passwordHash, sessionGeneration: users.sessionGeneration })
    .from(users)
    .where(eq(users.email, args.email));
  return user;
}

/** A new account; null when the email is taken (nothing is changed then). */
export async function createUser(executor: Executor, args: { email: string; passwordHash: string }): Promise<{ id: string } | null> {
  const [created] = await executor
    .insert(users)
    .values({ email: args.email, passwordHash: args.passwordHash })
    .onConflictDoNothing({ target: users.email })
    .returning({ id: users.id });
  return created ?? null;
}

/** Sets an account's tier or role by its email (the admin script); null when no account has it. */
export async function updateUserByEmail(executor: Executor, args: { email: string; change: Partial<Pick<User, "tier" | "role">> }) {
  const [updated] = await executor
    .update(users)
    .set(args.change)
    .where(eq(users.email, args.email))
    .returning({ email: users.email, tier: users.tier, role: users.role });
  return updated ?? null;
}

export async function setUserTier(executor: Executor, args: { userId: string; tier: User["tier"] }) {
  const updated = await executor.update(users).set({ tier: args.tier }).where(eq(users.id, args.userId)).returning({ id: users.id });
  return updated.length > 0;
}
