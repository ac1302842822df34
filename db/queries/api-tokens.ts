import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { generateApiToken, hashApiToken } from "@/lib/api-tokens";
import type { Executor } from "../client";
import { apiTokens, users } from "../schema";

/** A person may hold this many tokens that are not revoked. */
export const MAX_ACTIVE_TOKENS = 20;

export type ApiTokenView = {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
};

/** Creates a token; the plain token is returned here only, never stored. */
export async function createApiToken(executor: Executor, args: { ownerId: string; name: string }) {
  return executor.transaction(async (tx) => {
    // One creation per person at a time, so two cannot both pass the limit.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${args.ownerId}::text, 1))`);
    const [active] = await tx
      .select({ count: sql<number>`count(*)::int` })
      .from(apiTokens)
      .where(and(eq(apiTokens.ownerId, args.ownerId), isNull(apiTokens.revokedAt)));
    if (active.count >= MAX_ACTIVE_TOKENS) return { ok: false, code: "limit" } as const;
    const { token, hash, prefix } = generateApiToken();
    const [row] = await tx
      .insert(apiTokens)
      .values({ ownerId: args.ownerId, name: args.name, tokenHash: hash, prefix })
      .returning({ id: apiTokens.id });
    return { ok: true, id: row.id, token } as const;
  });
}

export async function listApiTokens(executor: Executor, args: { ownerId: string }): Promise<ApiTokenView[]> {
  const rows = await executor
    .select({
      id: apiTokens.id,
      name: apiTokens.name,
      prefix: apiTokens.prefix,
      createdAt: apiTokens.createdAt,
      lastUsedAt: apiTokens.lastUsedAt,
      revokedAt: apiTokens.revokedAt,
    })
    .from(apiTokens)
    .where(eq(apiTokens.ownerId, args.ownerId))
    .orderBy(desc(apiTokens.createdAt));
  return rows.map((row) => ({
    ...row,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  }));
}

/** Revokes one of the owner's tokens; false when it is not theirs (or already revoked). */
export async function revokeApiToken(executor: Executor, args: { id: string; ownerId: string }) {
  const revoked = await executor
    .update(apiTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiTokens.id, args.id), eq(apiTokens.ownerId, args.ownerId), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  return revoked.length > 0;
}

/**
 * The user a token belongs to, if it exists and is not revoked; the same
 * statement notes the token's use. Requests are counted per person, not per
 * token (countRequest in rate-windows.ts), so more tokens buy no more requests.
 */
export async function authenticateApiToken(executor: Executor, token: string) {
  const [row] = await executor
    .update(apiTokens)
    .set({ lastUsedAt: sql`now()` })
    .from(users)
    .where(and(eq(apiTokens.tokenHash, hashApiToken(token)), isNull(apiTokens.revokedAt), eq(users.id, apiTokens.ownerId)))
    .returning({ id: users.id, email: users.email, tier: users.tier });
  return row ?? null;
}
