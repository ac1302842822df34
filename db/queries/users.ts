import { asc, eq } from "drizzle-orm";
import type { Executor } from "../client";
import { users, type User } from "../schema";

export type UserSummary = Pick<User, "id" | "email" | "tier" | "role" | "createdAt">;

export async function listUsers(executor: Executor): Promise<UserSummary[]> {
  return executor
    .select({ id: users.id, email: users.email, tier: users.tier, role: users.role, createdAt: users.createdAt })
    .from(users)
    .orderBy(asc(users.email))
    .limit(1000);
}

export async function setUserTier(executor: Executor, args: { userId: string; tier: User["tier"] }) {
  const updated = await executor.update(users).set({ tier: args.tier }).where(eq(users.id, args.userId)).returning({ id: users.id });
  return updated.length > 0;
}
