import { and, asc, count, desc, eq, inArray, lte, sql } from "drizzle-orm";
import type { Database, Executor } from "../client";
import { jobLogs, watchedSources, type WatchedSource, type WatchIntervalMinutes } from "../schema";
import { deleteStoredFile } from "../storage";
import { fetchSourceVersion, sourceUploadName, type FetchedSource, type FetchSourceOptions } from "../storage/fetch-source";
import { checkStorageRoom, StorageQuotaError } from "./storage-usage";
import { acceptUpload } from "./uploads";

/** Each source is a fetch every few minutes at most: enough for a person, not a crawler. */
export const WATCHED_SOURCES_PER_PERSON = 20;

export const SOURCE_STATUS = { stored: "New version stored", unchanged: "Unchanged" } as const;
const failedStatus = (reason: string) => `Failed: ${reason}`;

export type WatchedSourceView = {
  id: string;
  url: string;
  intervalMinutes: WatchIntervalMinutes;
  lastCheckedAt: string | null;
  nextCheckAt: string;
  lastStatus: string | null;
  lastUploadId: string | null;
  versions: number;
  isShared: boolean;
};

const toView = (row: WatchedSource): WatchedSourceView => ({
  id: row.id,
  url: row.url,
  // The table's check constraint allows only these.
  intervalMinutes: row.intervalMinutes as WatchIntervalMinutes,
  lastCheckedAt: row.lastCheckedAt?.toISOString() ?? null,
  nextCheckAt: row.nextCheckAt.toISOString(),
  lastStatus: row.lastStatus,
  lastUploadId: row.lastUploadId,
  versions: row.versions,
  isShared: row.isShared,
});

export type AddWatchedSourceResult = { ok: true; source: WatchedSourceView } | { ok: false; code: "limit" | "duplicate" };

/**
 * Starts watching a URL (already validated by watchSourceInputSchema); it is due
 * at once. `isShared` (for everyone) is the caller's to allow: admins only.
 */
export async function addWatchedSource(
  executor: Executor,
  args: { ownerId: string; url: string; intervalMinutes: WatchIntervalMinutes; isShared?: boolean },
): Promise<AddWatchedSourceResult> {
  return executor.transaction(async (tx) => {
    // The same per-person lock as a configuration save: two adds cannot both pass the limit.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${args.ownerId}::text, 0))`);
    const [owned] = await tx.select({ count: count() }).from(watchedSources).where(eq(watchedSources.ownerId, args.ownerId));
    if (owned.count >= WATCHED_SOURCES_PER_PERSON) return { ok: false, code: "limit" } as const;
    const [row] = await tx.insert(watchedSources).values(args).onConflictDoNothing().returning();
    if (!row) return { ok: false, code: "duplicate" } as const;
    return { ok: true, source: toView(row) } as const;
  });
}

/** The owner's sources, newest first (at most WATCHED_SOURCES_PER_PERSON). */
export async function listWatchedSources(executor: Executor, args: { ownerId: string }): Promise<WatchedSourceView[]> {
  const rows = await executor
    .select()
    .from(watchedSources)
    .where(eq(watchedSources.ownerId, args.ownerId))
    .orderBy(desc(watchedSources.createdAt), desc(watchedSources.id));
  return rows.map(toView);
}

/** Stops watching; the versions already stored stay in the person's files. False when not the owner's. */
export async function removeWatchedSource(executor: Executor, args: { id: string; ownerId: string }) {
  const removed = await executor
    .delete(watchedSources)
    .where(and(eq(watchedSources.id, args.id), eq(watchedSources.ownerId, args.ownerId)))
    .returning({ id: watchedSources.id });
  return removed.length > 0;
}

/** A run stops claiming sources after this long, so one crontab tick does not hold a worker slot for minutes; the next tick goes on. */
const CHECK_BUDGET_MS = 50_000;

/**
 * Checks the sources that are due, one at a time: each is claimed in one
 * statement that also moves its next check (a crash or a hung fetch does not
 * make it loop), fetched outside any transaction, and its outcome recorded in
 * one transaction with the upload it adds. Returns how many were checked and
 * how many new versions were stored.
 */
export async function checkDueSources(
  db: Database,
  args: Omit<FetchSourceOptions, "signal"> & { signal?: AbortSignal; budgetMs?: number },
): Promise<{ checked: number; newVersions: number }> {
  const deadline = Date.now() + (args.budgetMs ?? CHECK_BUDGET_MS);
  let checked = 0;
  let newVersions = 0;
  while (Date.now() < deadline && !args.signal?.aborted) {
    const source = await claimDueSource(db);
    if (!source) break;
    const outcome = await fetchUnlessFull(db, source, args);
    if (outcome.kind === "failed" && args.signal?.aborted) {
      // Cut short by a worker shutdown or the job's time limit, not the source's fault: due again for the next run.
      await db
        .update(watchedSources)
        .set({ nextCheckAt: sql`now()` })
        .where(eq(watchedSources.id, source.id));
      break;
    }
    checked += 1;
    if (await recordCheck(db, source, outcome)) newVersions += 1;
  }
  return { checked, newVersions };
}

/** A source of someone whose storage quota has no room for another file is not fetched at all. */
async function fetchUnlessFull(db: Database, source: WatchedSource, args: FetchSourceOptions): Promise<FetchedSource> {
  try {
    await checkStorageRoom(db, { ownerId: source.ownerId, needed: { bytes: 0, files: 1 } });
  } catch (error) {
    if (error instanceof StorageQuotaError) return { kind: "failed", reason: error.message };
    throw error;
  }
  return fetchSourceVersion(db, source, args);
}

async function claimDueSource(db: Database) {
  const due = db
    .select({ id: watchedSources.id })
    .from(watchedSources)
    .where(lte(watchedSources.nextCheckAt, sql`now()`))
    .orderBy(asc(watchedSources.nextCheckAt))
    .limit(1)
    .for("update", { skipLocked: true });
  const [claimed] = await db
    .update(watchedSources)
    .set({ nextCheckAt: sql`now() + make_interval(mins => ${watchedSources.intervalMinutes})` })
    .where(inArray(watchedSources.id, due))
    .returning();
  return claimed;
}

/** Records a check's outcome; true when it stored a new version. A source removed meanwhile keeps nothing. */
async function recordCheck(db: Database, claimed: WatchedSource, outcome: FetchedSource) {
  return db.transaction(async (tx) => {
    const [source] = await tx.select().from(watchedSources).where(eq(watchedSources.id, claimed.id)).for("update");
    const isSameBytes = outcome.kind === "stored" && outcome.sha256 === source?.lastSha256;
    if (outcome.kind === "stored" && (!source || isSameBytes)) await deleteStoredFile(tx, outcome.key);
    if (!source) return false;

    const checkedNow = { lastCheckedAt: sql`now()` };
    const where = eq(watchedSources.id, source.id);
    if (outcome.kind === "failed") {
      await tx
        .update(watchedSources)
        .set({ ...checkedNow, lastStatus: failedStatus(outcome.reason) })
        .where(where);
      return false;
    }
    const validators = { etag: outcome.etag, lastModified: outcome.lastModified };
    if (outcome.kind === "not_modified" || isSameBytes) {
      await tx
        .update(watchedSources)
        .set({ ...checkedNow, ...validators, lastStatus: SOURCE_STATUS.unchanged })
        .where(where);
      return false;
    }
    let upload: { id: string };
    try {
      upload = await acceptUpload(tx, {
        ownerId: source.ownerId,
        name: sourceUploadName(source.url),
        size: outcome.size,
        storage: "local",
        storageKey: outcome.key,
        declaredType: outcome.declaredType,
        isShared: source.isShared,
      });
    } catch (error) {
      // acceptUpload's own transaction (a savepoint in this one) rolled back; the check is still recorded.
      if (!(error instanceof StorageQuotaError)) throw error;
      await deleteStoredFile(tx, outcome.key);
      await tx
        .update(watchedSources)
        .set({ ...checkedNow, lastStatus: failedStatus(error.message) })
        .where(where);
      return false;
    }
    // The upload's log says where it came from (uploads keep no link to their source).
    await tx.insert(jobLogs).values({ uploadId: upload.id, message: `Version ${source.versions + 1} of watched source ${source.url}` });
    await tx
      .update(watchedSources)
      .set({
        ...checkedNow,
        ...validators,
        lastSha256: outcome.sha256,
        lastUploadId: upload.id,
        versions: sql`${watchedSources.versions} + 1`,
        lastStatus: SOURCE_STATUS.stored,
      })
      .where(where);
    return true;
  });
}
