import { and, eq, lt, sql } from "drizzle-orm";
import type { Database, Executor } from "../client";
import { apiIdempotencyKeys } from "../schema";

/** How long an Idempotency-Key is remembered (housekeeping forgets older ones). */
export const IDEMPOTENCY_KEY_HOURS = 24;

export type StoredResponse = { status: number; body: unknown; location: string | null };
export type IdempotencyKey = { ownerId: string; key: string; requestHash: string };
export type IdempotentOutcome = { kind: "new" | "replayed"; response: StoredResponse } | { kind: "mismatch" };

/** Has this key answered already? Also a cheap look before expensive work (an upload's body). */
export async function findIdempotentResponse(executor: Executor, key: IdempotencyKey): Promise<IdempotentOutcome | null> {
  const [row] = await executor
    .select()
    .from(apiIdempotencyKeys)
    .where(and(eq(apiIdempotencyKeys.ownerId, key.ownerId), eq(apiIdempotencyKeys.key, key.key)));
  if (!row) return null;
  if (row.requestHash !== key.requestHash) return { kind: "mismatch" };
  return { kind: "replayed", response: { status: row.responseStatus, body: row.responseBody, location: row.responseLocation } };
}

/**
 * Runs `work` once per owner and key. Requests with the same key take turns
 * (a transaction-scoped advisory lock); a later one gets the first response,
 * or "mismatch" when it is a different request. A successful (2xx) response is
 * stored in the transaction that did the work, so the work and its key commit
 * together. A refusal is not stored: it changed nothing, and a retry runs again.
 * Without a key, `work` simply runs in a transaction.
 */
export async function runIdempotently(
  db: Database,
  key: IdempotencyKey | null,
  work: (tx: Executor) => Promise<StoredResponse>,
): Promise<IdempotentOutcome> {
  return db.transaction(async (tx) => {
    if (key) {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`${key.ownerId}:${key.key}`}, 2))`);
      const earlier = await findIdempotentResponse(tx, key);
      if (earlier) return earlier;
    }
    const response = await work(tx);
    if (key && response.status >= 200 && response.status < 300) {
      await tx.insert(apiIdempotencyKeys).values({
        ownerId: key.ownerId,
        key: key.key,
        requestHash: key.requestHash,
        responseStatus: response.status,
        responseBody: response.body,
        responseLocation: response.location,
      });
    }
    return { kind: "new", response } as const;
  });
}

export async function expireIdempotencyKeys(executor: Executor) {
  const expired = await executor
    .delete(apiIdempotencyKeys)
    .where(lt(apiIdempotencyKeys.createdAt, sql`now() - make_interval(hours => ${IDEMPOTENCY_KEY_HOURS})`))
    .returning({ id: apiIdempotencyKeys.id });
  return expired.length;
}
