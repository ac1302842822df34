import { and, eq, sql } from "drizzle-orm";
import { formatBytes } from "@/lib/format";
import { TIER_LIMITS, type Tier } from "@/lib/tiers";
import type { Executor } from "../client";
import { storageUsage, users } from "../schema";

/** Bytes and files: what a person stores, what a file or a copy needs, what a replacement frees. */
export type StorageAmount = { bytes: number; files: number };

/** What a person stores, and what their tier allows. */
export type StorageUsageView = StorageAmount & { tier: Tier; maxBytes: number; maxFiles: number };

const NOTHING: StorageAmount = { bytes: 0, files: 0 };
const count = (n: number) => n.toLocaleString("en-US");

/** A storage quota refusal (413 storage_quota_exceeded on the web and the Jobs API, 507 over WebDAV); nothing was kept. */
export class StorageQuotaError extends Error {
  constructor(
    readonly usage: StorageUsageView,
    readonly needed: StorageAmount,
    /** The size is only known to be at least `needed.bytes` (a body without Content-Length, cut off). */
    options: { isLowerBound?: boolean } = {},
  ) {
    const what =
      needed.files > 1
        ? `${count(needed.files)} more files (${formatBytes(needed.bytes)})`
        : needed.bytes > 0
          ? `a file of ${options.isLowerBound ? "more than " : ""}${formatBytes(needed.bytes)}`
          : "another file";
    super(
      `Storage quota reached: a ${TIER_LIMITS[usage.tier].label} account keeps up to ${formatBytes(usage.maxBytes)} in ` +
        `${count(usage.maxFiles)} files, and ${formatBytes(usage.bytes)} in ${count(usage.files)} files are stored; ` +
        `${what} would not fit. Delete files to make room.`,
    );
  }
}

/** What a person stores and may store (zero before their first file). */
export async function getStorageUsage(executor: Executor, args: { ownerId: string }): Promise<StorageUsageView> {
  const [row] = await executor
    .select({ tier: users.tier, bytes: storageUsage.bytes, files: storageUsage.files })
    .from(users)
    .leftJoin(storageUsage, eq(storageUsage.ownerId, users.id))
    .where(eq(users.id, args.ownerId));
  const tier = row?.tier ?? "free";
  const { maxStorageBytes, maxStorageFiles } = TIER_LIMITS[tier];
  return { tier, bytes: row?.bytes ?? 0, files: row?.files ?? 0, maxBytes: maxStorageBytes, maxFiles: maxStorageFiles };
}

const fits = (usage: StorageUsageView, needed: StorageAmount, freed: StorageAmount) =>
  usage.bytes + needed.bytes - freed.bytes <= usage.maxBytes && usage.files + needed.files - freed.files <= usage.maxFiles;

/**
 * Refuses early (StorageQuotaError) what cannot fit now, before any byte is
 * stored: a declared size, a copy's total. Not a reservation: acceptUpload
 * checks again, atomically, when the file is accepted. Returns the usage it read.
 */
export async function checkStorageRoom(
  executor: Executor,
  args: { ownerId: string; needed: StorageAmount; freed?: StorageAmount },
): Promise<StorageUsageView> {
  const usage = await getStorageUsage(executor, args);
  if (!fits(usage, args.needed, args.freed ?? NOTHING)) throw new StorageQuotaError(usage, args.needed);
  return usage;
}

/**
 * Adds a file to its owner's usage, within their tier's quota, or throws
 * StorageQuotaError (the caller's transaction then rolls back). One guarded
 * UPDATE: concurrent uploads of one person take turns on the usage row, and
 * each sees the others' files, so together they never pass the quota.
 * `freed` is what the same transaction deletes (the file a WebDAV PUT replaces).
 */
export async function chargeStorage(tx: Executor, args: { ownerId: string; needed: StorageAmount; freed?: StorageAmount }) {
  const { ownerId, needed, freed = NOTHING } = args;
  const [owner] = await tx.select({ tier: users.tier }).from(users).where(eq(users.id, ownerId));
  const limits = TIER_LIMITS[owner?.tier ?? "free"];
  await tx.insert(storageUsage).values({ ownerId }).onConflictDoNothing();
  const charged = await tx
    .update(storageUsage)
    .set({ bytes: sql`${storageUsage.bytes} + ${needed.bytes}`, files: sql`${storageUsage.files} + ${needed.files}` })
    .where(
      and(
        eq(storageUsage.ownerId, ownerId),
        sql`${storageUsage.bytes} + ${needed.bytes - freed.bytes} <= ${limits.maxStorageBytes}`,
        sql`${storageUsage.files} + ${needed.files - freed.files} <= ${limits.maxStorageFiles}`,
      ),
    )
    .returning({ ownerId: storageUsage.ownerId });
  if (charged.length === 0) throw new StorageQuotaError(await getStorageUsage(tx, { ownerId }), needed);
}

/**
 * Locks the owner's usage row until the transaction ends. A transaction that
 * deletes files takes it before any upload's row, as acceptUpload does: one
 * lock order, so deleting a file on the page while WebDAV deletes its folder waits instead of deadlocking.
 */
export async function lockStorageUsage(tx: Executor, args: { ownerId: string }) {
  await tx.select({ ownerId: storageUsage.ownerId }).from(storageUsage).where(eq(storageUsage.ownerId, args.ownerId)).for("update");
}

/** Gives a deleted file's room back. */
export async function releaseStorage(tx: Executor, args: { ownerId: string; freed: StorageAmount }) {
  await tx
    .update(storageUsage)
    .set({
      bytes: sql`${storageUsage.bytes} - ${args.freed.bytes}`,
      files: sql`${storageUsage.files} - ${args.freed.files}`,
    })
    .where(eq(storageUsage.ownerId, args.ownerId));
}
