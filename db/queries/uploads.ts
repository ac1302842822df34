import { and, desc, eq, inArray, or, sql } from "drizzle-orm";
import { enqueue, removeJob } from "@/jobs/enqueue";
import { UPLOAD_STEP_MAX_ATTEMPTS, UPLOAD_STEP_TASKS, uploadStepJobKey, type UploadStep } from "@/jobs/payloads";
import { MAX_COUNTED_UPLOAD_STEPS, uploadStepPriority } from "@/lib/tiers";
import type { Database, Executor } from "../client";
import { blobs, jobLogs, uploads, uploadSteps, users, type StorageKind, type UploadStepName, type UploadStepStatus } from "../schema";
import { deleteStoredFile, FileTooLargeError, writeStoredFile } from "../storage";
import { deleteUploadThingFile } from "../storage/uploadthing";
import { chargeStorage, checkStorageRoom, lockStorageUsage, releaseStorage, StorageQuotaError } from "./storage-usage";

/** Every upload starts with these; upload_type adds "thumbnail" when the bytes are an image. */
const FIRST_STEPS = ["checksum", "type"] as const satisfies UploadStep[];
const UNFINISHED_STEP_STATUSES: UploadStepStatus[] = ["queued", "running"];

export type NewUpload = {
  ownerId: string;
  name: string;
  size: number;
  storage: StorageKind;
  storageKey: string;
  storageUrl?: string | null;
  declaredType: string | null;
  dataset?: string | null;
  isShared?: boolean;
};

/**
 * Accepts bytes already in storage: the upload row, its steps and their jobs
 * commit in one transaction, with the owner's storage usage, within their
 * tier's quota (StorageQuotaError otherwise, and nothing is written). The same
 * stored bytes accepted twice (a repeated completion callback) give the same
 * upload, not a second one. `replacing`: a file of the same owner that the
 * caller deletes in the same transaction (a WebDAV PUT over a file), whose room counts as free.
 */
export async function acceptUpload(
  executor: Executor,
  upload: NewUpload,
  options: { replacing?: { size: number } } = {},
): Promise<{ id: string }> {
  return executor.transaction(async (tx) => {
    const [created] = await tx.insert(uploads).values(upload).onConflictDoNothing().returning({ id: uploads.id });
    if (!created) {
      const [existing] = await tx
        .select({ id: uploads.id })
        .from(uploads)
        .where(and(eq(uploads.storage, upload.storage), eq(uploads.storageKey, upload.storageKey)));
      return existing;
    }
    await chargeStorage(tx, {
      ownerId: upload.ownerId,
      needed: { bytes: upload.size, files: 1 },
      freed: options.replacing && { bytes: options.replacing.size, files: 1 },
    });
    await queueSteps(tx, created.id, FIRST_STEPS);
    return created;
  });
}

/**
 * Bytes into the local store, then into the database: they stream in
 * (FileTooLargeError past maxBytes, nothing kept), then `accept` records them
 * (in one transaction: the upload, its jobs and whatever else belongs with it).
 * The stored bytes are dropped when `accept` throws or does not keep them.
 * A file the owner's storage quota has no room for is refused before a byte
 * is stored (StorageQuotaError): by its declared size when the client gave one,
 * else when no file at all fits; acceptUpload checks its real size again.
 */
export async function storeThenAccept<T>(
  db: Database,
  source: AsyncIterable<Uint8Array>,
  options: { maxBytes: number; ownerId: string; declaredBytes?: number; replacing?: { size: number } },
  accept: (stored: { key: string; size: number }) => Promise<{ value: T; keepBytes: boolean }>,
): Promise<T> {
  const usage = await checkStorageRoom(db, {
    ownerId: options.ownerId,
    needed: { bytes: options.declaredBytes ?? 0, files: 1 },
    freed: options.replacing && { bytes: options.replacing.size, files: 1 },
  });
  // A body of unknown size stops where the quota would, not at maxBytes.
  const room = usage.maxBytes - usage.bytes + (options.replacing?.size ?? 0);
  const maxBytes = Math.min(options.maxBytes, room);
  const stored = await writeStoredFile(db, source, { maxBytes }).catch((error: unknown) => {
    throw error instanceof FileTooLargeError && maxBytes < options.maxBytes
      ? new StorageQuotaError(usage, { bytes: maxBytes + 1, files: 1 }, { isLowerBound: true })
      : error;
  });
  let accepted: { value: T; keepBytes: boolean };
  try {
    accepted = await accept(stored);
  } catch (error) {
    await deleteStoredFile(db, stored.key).catch(() => {}); // housekeeping purges it otherwise
    throw error;
  }
  if (!accepted.keepBytes) await deleteStoredFile(db, stored.key);
  return accepted.value;
}

/** An upload into the local store: what the dataset and shared-file copies and the tests do. */
export async function storeUpload(
  db: Database,
  source: AsyncIterable<Uint8Array>,
  upload: Omit<NewUpload, "size" | "storage" | "storageKey" | "storageUrl">,
  options: { maxBytes: number; declaredBytes?: number },
) {
  return storeThenAccept(db, source, { ...options, ownerId: upload.ownerId }, async (stored) => ({
    value: await acceptUpload(db, { ...upload, size: stored.size, storage: "local", storageKey: stored.key }),
    keepBytes: true,
  }));
}

/**
 * Inserts (or resets) steps as queued and adds their jobs, replacing any queued
 * job of the same step. Each job's priority is the owner's fair share
 * (uploadStepPriority): their tier, and their unfinished upload steps besides these.
 */
export async function queueSteps(tx: Executor, uploadId: string, steps: readonly UploadStep[]) {
  const [owner] = await tx
    .select({
      tier: users.tier,
      // Counting stops where the priority stops growing, so a person with thousands of queued files costs no more.
      unfinishedSteps: sql<number>`(select count(*)::int from (
        select 1 from ${uploadSteps} join ${uploads} as theirs on theirs.id = ${uploadSteps.uploadId}
        where theirs.owner_id = ${uploads.ownerId}
          and ${inArray(uploadSteps.status, UNFINISHED_STEP_STATUSES)}
          and not ${and(eq(uploadSteps.uploadId, uploadId), inArray(uploadSteps.step, [...steps]))}
        limit ${MAX_COUNTED_UPLOAD_STEPS}) as counted)`,
    })
    .from(uploads)
    .innerJoin(users, eq(users.id, uploads.ownerId))
    .where(eq(uploads.id, uploadId));
  if (!owner) throw new Error(`No upload ${uploadId} to queue steps for`);
  await tx
    .insert(uploadSteps)
    .values(steps.map((step) => ({ uploadId, step })))
    .onConflictDoUpdate({
      target: [uploadSteps.uploadId, uploadSteps.step],
      set: {
        status: "queued",
        message: null,
        attempts: 0,
        queuedAt: sql`now()`,
        startedAt: null,
        finishedAt: null,
        workerId: null,
        jobId: null,
        wallMs: null,
        cpuMs: null,
        bytesRead: null,
        bytesWritten: null,
      },
    });
  for (const [index, step] of steps.entries()) {
    await enqueue(
      tx,
      UPLOAD_STEP_TASKS[step],
      { uploadId },
      {
        jobKey: uploadStepJobKey(uploadId, step),
        jobKeyMode: "replace",
        maxAttempts: UPLOAD_STEP_MAX_ATTEMPTS,
        priority: uploadStepPriority(owner.tier, owner.unfinishedSteps + index),
      },
    );
  }
}

export type UploadStepView = { step: UploadStepName; status: UploadStepStatus; message: string | null; finishedAt: string | null };

export type UploadView = {
  id: string;
  name: string;
  size: number;
  declaredType: string | null;
  detectedType: string | null;
  md5: string | null;
  thumbnailSha256: string | null;
  imageWidth: number | null;
  imageHeight: number | null;
  dataset: string | null;
  createdAt: string;
  steps: UploadStepView[];
  /** Every step finished (succeeded or failed). */
  isProcessed: boolean;
};

const STEP_ORDER: UploadStepName[] = ["checksum", "type", "thumbnail"];

/**
 * One query: the owner's uploads (newest first) with their steps, for the list
 * and its polling. `afterId` pages on from an upload (the API's cursor).
 */
export async function listUploads(
  executor: Executor,
  args: { ownerId: string; id?: string; afterId?: string; limit?: number },
): Promise<UploadView[]> {
  const rows = await executor
    .select({
      upload: {
        id: uploads.id,
        name: uploads.name,
        size: uploads.size,
        declaredType: uploads.declaredType,
        detectedType: uploads.detectedType,
        md5: uploads.md5,
        thumbnailSha256: uploads.thumbnailSha256,
        imageWidth: uploads.imageWidth,
        imageHeight: uploads.imageHeight,
        dataset: uploads.dataset,
        createdAt: uploads.createdAt,
      },
      steps: sql<UploadStepView[]>`coalesce((
        select json_agg(json_build_object('step', s.step, 'status', s.status, 'message', s.message, 'finishedAt', s.finished_at))
        from ${uploadSteps} s where s.upload_id = ${uploads.id}), '[]'::json)`,
    })
    .from(uploads)
    .where(
      and(
        eq(uploads.ownerId, args.ownerId),
        args.id ? eq(uploads.id, args.id) : undefined,
        args.afterId
          ? sql`(${uploads.createdAt}, ${uploads.id}) < (select u.created_at, u.id from ${uploads} u where u.id = ${args.afterId} and u.owner_id = ${args.ownerId})`
          : undefined,
      ),
    )
    .orderBy(desc(uploads.createdAt), desc(uploads.id))
    .limit(args.limit ?? 200);
  return rows.map(({ upload, steps }) => {
    const ordered = [...steps].sort((a, b) => STEP_ORDER.indexOf(a.step) - STEP_ORDER.indexOf(b.step));
    return {
      ...upload,
      createdAt: upload.createdAt.toISOString(),
      steps: ordered,
      isProcessed: ordered.every((step) => step.status === "succeeded" || step.status === "failed"),
    };
  });
}

export async function getUpload(executor: Executor, args: { id: string; ownerId: string }) {
  const [upload] = await listUploads(executor, { ownerId: args.ownerId, id: args.id, limit: 1 });
  return upload ?? null;
}

/** Runs every step again from the start; false when the upload is not the owner's. */
export async function reprocessUpload(executor: Executor, args: { id: string; ownerId: string }) {
  return executor.transaction(async (tx) => {
    const [upload] = await tx
      .update(uploads)
      .set({ md5: null, detectedType: null, thumbnailSha256: null, imageWidth: null, imageHeight: null })
      .where(and(eq(uploads.id, args.id), eq(uploads.ownerId, args.ownerId)))
      .returning({ id: uploads.id });
    if (!upload) return false;
    await tx.delete(uploadSteps).where(and(eq(uploadSteps.uploadId, upload.id), eq(uploadSteps.step, "thumbnail")));
    await removeJob(tx, uploadStepJobKey(upload.id, "thumbnail"));
    await tx.insert(jobLogs).values({ uploadId: upload.id, message: "Processing requested again" });
    await queueSteps(tx, upload.id, FIRST_STEPS);
    return true;
  });
}

/**
 * Deletes an upload with its steps, logs and (local store) bytes in one
 * transaction, and gives its room back to the owner's storage quota; its
 * thumbnail blob goes with housekeeping once nothing references it.
 * Returns what was stored, so the caller can delete UploadThing's copy; null when not the owner's.
 */
export async function deleteUpload(executor: Executor, args: { id: string; ownerId: string }) {
  return executor.transaction(async (tx) => {
    await lockStorageUsage(tx, { ownerId: args.ownerId });
    const [deleted] = await tx
      .delete(uploads)
      .where(and(eq(uploads.id, args.id), eq(uploads.ownerId, args.ownerId)))
      .returning({ storage: uploads.storage, storageKey: uploads.storageKey, size: uploads.size });
    if (!deleted) return null;
    await releaseStorage(tx, { ownerId: args.ownerId, freed: { bytes: deleted.size, files: 1 } });
    for (const step of STEP_ORDER) await removeJob(tx, uploadStepJobKey(args.id, step));
    if (deleted.storage === "local") await deleteStoredFile(tx, deleted.storageKey);
    return deleted;
  });
}

/**
 * deleteUpload, then UploadThing's copy of the bytes, if they were there. The row
 * is gone either way; a file left at UploadThing is only storage, logged for the operator.
 * False when the upload is not the owner's.
 */
export async function removeUpload(executor: Executor, args: { id: string; ownerId: string }) {
  const deleted = await deleteUpload(executor, args);
  if (deleted?.storage === "uploadthing") {
    await deleteUploadThingFile(deleted.storageKey).catch((error) => console.error("UploadThing delete failed", deleted.storageKey, error));
  }
  return deleted !== null;
}

/** The thumbnail of one of the owner's uploads: null without such an upload, `thumbnail: null` until one is made (or when it is not an image). */
export async function getUploadThumbnail(executor: Executor, args: { id: string; ownerId: string }) {
  const [row] = await executor
    // A nested object of a left-joined table: null when the join found nothing.
    .select({ thumbnail: { sha256: blobs.sha256, data: blobs.data, contentType: blobs.contentType, size: blobs.size } })
    .from(uploads)
    .leftJoin(blobs, eq(blobs.sha256, uploads.thumbnailSha256))
    .where(and(eq(uploads.id, args.id), eq(uploads.ownerId, args.ownerId)));
  return row ?? null;
}

/**
 * What a download needs: where the bytes are, and what to call and label them.
 * The owner's file, or a shared one (a version of an admin's source for everyone).
 */
export async function getUploadDownload(executor: Executor, args: { id: string; ownerId: string }) {
  const [row] = await executor
    .select({
      name: uploads.name,
      size: uploads.size,
      detectedType: uploads.detectedType,
      storage: uploads.storage,
      storageKey: uploads.storageKey,
      storageUrl: uploads.storageUrl,
      thumbnailSha256: uploads.thumbnailSha256,
      isShared: uploads.isShared,
    })
    .from(uploads)
    .where(and(eq(uploads.id, args.id), or(eq(uploads.ownerId, args.ownerId), eq(uploads.isShared, true))));
  return row ?? null;
}

export type SharedFileView = { id: string; name: string; size: number; detectedType: string | null; md5: string | null; createdAt: string };

/** The newest shared files, for everyone: the versions of admins' sources for everyone. */
export async function listSharedFiles(executor: Executor, args: { limit?: number } = {}): Promise<SharedFileView[]> {
  const rows = await executor
    .select({
      id: uploads.id,
      name: uploads.name,
      size: uploads.size,
      detectedType: uploads.detectedType,
      md5: uploads.md5,
      createdAt: uploads.createdAt,
    })
    .from(uploads)
    .where(eq(uploads.isShared, true))
    .orderBy(desc(uploads.createdAt))
    .limit(args.limit ?? 50);
  return rows.map((row) => ({ ...row, createdAt: row.createdAt.toISOString() }));
}
