import { and, eq, sql } from "drizzle-orm";
import { expect } from "vitest";
import type { Database } from "../client";
import { getStorageUsage, type StorageAmount } from "../queries/storage-usage";
import { storageUsage, storedFiles, uploads } from "../schema";

/** A person whose usage row says they store all but `room` of their tier's quota. */
export type LeftRoom = { ownerId: string; maxBytes: number; maxFiles: number; room: StorageAmount; filesThen: StorageAmount };

/**
 * Lets a few small files reach a person's storage quota: their usage row is set
 * as if their files already filled all of it but `room`. Real quotas are 1 GiB
 * and more; the code that enforces them reads only this row and the tier.
 */
export async function leaveStorageRoom(db: Database, ownerId: string, room: StorageAmount): Promise<LeftRoom> {
  const { maxBytes, maxFiles } = await getStorageUsage(db, { ownerId });
  const usage = { bytes: maxBytes - room.bytes, files: maxFiles - room.files };
  await db
    .insert(storageUsage)
    .values({ ownerId, ...usage })
    .onConflictDoUpdate({ target: storageUsage.ownerId, set: usage });
  return { ownerId, maxBytes, maxFiles, room, filesThen: await storedTotals(db, ownerId) };
}

/** What a person's upload rows add up to. */
export async function storedTotals(db: Database, ownerId: string): Promise<StorageAmount> {
  const [totals] = await db
    .select({ bytes: sql`coalesce(sum(${uploads.size}), 0)`.mapWith(Number), files: sql`count(*)`.mapWith(Number) })
    .from(uploads)
    .where(eq(uploads.ownerId, ownerId));
  return totals;
}

/** Files in the local store that no upload keeps: bytes a refused upload left behind. */
export async function countOrphanStoredFiles(db: Database) {
  const [row] = await db
    .select({ count: sql`count(*)`.mapWith(Number) })
    .from(storedFiles)
    .where(
      sql`not exists (select 1 from ${uploads} where ${and(eq(uploads.storage, "local"), sql`${uploads.storageKey} = ${storedFiles.key}::text`)})`,
    );
  return row.count;
}

/**
 * The quota held: the usage row is within the tier's limits, and it counts
 * exactly the files stored since room was left (nothing stored uncounted).
 * Returns the files stored since then.
 */
export async function expectWithinQuota(db: Database, left: LeftRoom): Promise<StorageAmount> {
  const usage = await getStorageUsage(db, { ownerId: left.ownerId });
  const now = await storedTotals(db, left.ownerId);
  const added = { bytes: now.bytes - left.filesThen.bytes, files: now.files - left.filesThen.files };
  expect(usage.bytes).toBeLessThanOrEqual(left.maxBytes);
  expect(usage.files).toBeLessThanOrEqual(left.maxFiles);
  expect({ bytes: usage.bytes, files: usage.files }).toEqual({
    bytes: left.maxBytes - left.room.bytes + added.bytes,
    files: left.maxFiles - left.room.files + added.files,
  });
  expect(await countOrphanStoredFiles(db)).toBe(0);
  return added;
}
