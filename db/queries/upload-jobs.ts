import { and, eq, inArray, or, sql } from "drizzle-orm";
import { removeJob } from "@/jobs/enqueue";
import { uploadStepJobKey } from "@/jobs/payloads";
import { isThumbnailable } from "@/lib/uploads/media-types";
import { UPLOAD_STEP_LABELS } from "@/lib/uploads/steps";
import type { Executor } from "../client";
import { blobs, uploads, uploadSteps, type LogLevel, type UploadStepName } from "../schema";
import { appendJobLog } from "./job-logs";
import { queueSteps } from "./uploads";

/**
 * The worker's side of upload steps. Like renders, every write is conditional
 * on the step's status, so a re-delivered job or a step reset meanwhile (the
 * person asked to process the file again) never writes a stale outcome twice.
 */
/**
 * The job working on a step, and its attempt: the graphile-worker job id fences the writes of a job the step was
 * re-queued away from (see upload_steps.job_id), and the attempt those of the same job delivered again after its
 * worker was taken for lost.
 */
export type StepJob = { uploadId: string; step: UploadStepName; jobId: string; attempt: number };

export async function claimUploadStep(executor: Executor, args: Omit<StepJob, "attempt"> & { workerId: string }) {
  // One statement: the step becomes running and the upload says where its bytes are.
  // A queued step is anyone's; a running one only its own job's (delivered again after a crash).
  const [claimed] = await executor
    .update(uploadSteps)
    .set({
      status: "running",
      startedAt: sql`now()`,
      attempts: sql`${uploadSteps.attempts} + 1`,
      workerId: args.workerId,
      jobId: args.jobId,
      message: null,
    })
    .from(uploads)
    .where(
      and(
        eq(uploads.id, uploadSteps.uploadId),
        eq(uploadSteps.uploadId, args.uploadId),
        eq(uploadSteps.step, args.step),
        or(eq(uploadSteps.status, "queued"), and(eq(uploadSteps.status, "running"), eq(uploadSteps.jobId, args.jobId))),
      ),
    )
    .returning({
      attempts: uploadSteps.attempts,
      size: uploads.size,
      storage: uploads.storage,
      storageKey: uploads.storageKey,
      storageUrl: uploads.storageUrl,
      detectedType: uploads.detectedType,
    });
  return claimed ?? null;
}

export type StepCost = { wallMs: number; cpuMs: number; bytesRead: number; bytesWritten: number };

/**
 * Marks a running step finished, with its log line in the same transaction (so
 * the page never shows the outcome without its line); false when the step was
 * reset or deleted meanwhile, and then nothing is written.
 */
async function finishStep(
  tx: Executor,
  args: StepJob & { status: "succeeded" | "failed"; message: string | null; cost: StepCost; log: LogLine },
) {
  const updated = await tx
    .update(uploadSteps)
    .set({
      status: args.status,
      message: args.message,
      finishedAt: sql`now()`,
      wallMs: Math.round(args.cost.wallMs),
      cpuMs: Math.round(args.cost.cpuMs),
      bytesRead: args.cost.bytesRead,
      bytesWritten: args.cost.bytesWritten,
    })
    .where(isHeldBy(args))
    .returning({ uploadId: uploadSteps.uploadId });
  if (updated.length === 0) return false;
  await appendJobLog(tx, { uploadId: args.uploadId, level: args.log.level, message: args.log.message });
  return true;
}

export type LogLine = { level?: LogLevel; message: string };

/**
 * Every transaction here takes its upload's row first, as deleting and reprocessing an
 * upload do: one lock order everywhere. Writing a step or a log line locks the upload's
 * row too (their foreign key), but after the step's: a step finishing while its upload
 * was deleted deadlocked with the delete's cascade, and the delete (WebDAV, the page)
 * failed. False when the upload is gone.
 */
async function lockUpload(tx: Executor, uploadId: string) {
  const [row] = await tx.select({ id: uploads.id }).from(uploads).where(eq(uploads.id, uploadId)).for("no key update");
  return row !== undefined;
}

const isHeldBy = (job: StepJob) =>
  and(
    eq(uploadSteps.uploadId, job.uploadId),
    eq(uploadSteps.step, job.step),
    eq(uploadSteps.status, "running"),
    eq(uploadSteps.jobId, job.jobId),
    eq(uploadSteps.attempts, job.attempt),
  );

/**
 * Whether a refused write was refused because this attempt is stale: the step is still its job's, but was put back
 * in the queue or claimed again since (its worker was taken for lost). Then the job is someone else's to finish
 * (see jobs/stale-attempt.ts); otherwise the step was reset, cancelled or deleted, and the job is simply done.
 */
export async function isStaleStepAttempt(executor: Executor, job: StepJob) {
  const [row] = await executor
    .select({ status: uploadSteps.status, attempts: uploadSteps.attempts, jobId: uploadSteps.jobId })
    .from(uploadSteps)
    .where(and(eq(uploadSteps.uploadId, job.uploadId), eq(uploadSteps.step, job.step)));
  return row !== undefined && row.jobId === job.jobId && (row.attempts !== job.attempt || row.status === "queued");
}

export async function completeChecksum(executor: Executor, args: Omit<StepJob, "step"> & { md5: string; cost: StepCost; log: LogLine }) {
  return executor.transaction(async (tx) => {
    if (!(await lockUpload(tx, args.uploadId))) return false;
    if (!(await finishStep(tx, { ...args, step: "checksum", status: "succeeded", message: null }))) return false;
    await tx.update(uploads).set({ md5: args.md5 }).where(eq(uploads.id, args.uploadId));
    return true;
  });
}

/** Records the detected type; an image also gets its thumbnail step and job, in the same transaction. */
export async function completeTypeDetection(
  executor: Executor,
  args: Omit<StepJob, "step"> & { detectedType: string; cost: StepCost; log: LogLine },
) {
  return executor.transaction(async (tx) => {
    if (!(await lockUpload(tx, args.uploadId))) return false;
    if (!(await finishStep(tx, { ...args, step: "type", status: "succeeded", message: null }))) return false;
    await tx.update(uploads).set({ detectedType: args.detectedType }).where(eq(uploads.id, args.uploadId));
    if (isThumbnailable(args.detectedType)) await queueSteps(tx, args.uploadId, ["thumbnail"]);
    return true;
  });
}

export async function completeThumbnail(
  executor: Executor,
  args: Omit<StepJob, "step"> & {
    thumbnail: { sha256: string; data: Buffer };
    width: number;
    height: number;
    cost: StepCost;
    log: LogLine;
  },
) {
  return executor.transaction(async (tx) => {
    if (!(await lockUpload(tx, args.uploadId))) return false;
    if (!(await finishStep(tx, { ...args, step: "thumbnail", status: "succeeded", message: `${args.width}x${args.height}` }))) return false;
    await tx
      .insert(blobs)
      .values({ sha256: args.thumbnail.sha256, contentType: "image/webp", size: args.thumbnail.data.length, data: args.thumbnail.data })
      .onConflictDoNothing();
    await tx
      .update(uploads)
      .set({ thumbnailSha256: args.thumbnail.sha256, imageWidth: args.width, imageHeight: args.height })
      .where(eq(uploads.id, args.uploadId));
    return true;
  });
}

/**
 * A step that failed: final (bad content, or out of attempts) shows the reason;
 * otherwise it goes back to queued, saying it will retry.
 */
export async function failUploadStep(
  executor: Executor,
  args: StepJob & { reason: string; isFinal: boolean; cost: StepCost; log: LogLine },
) {
  return executor.transaction(async (tx) => {
    if (!(await lockUpload(tx, args.uploadId))) return false;
    if (args.isFinal) return finishStep(tx, { ...args, status: "failed", message: args.reason });
    const updated = await tx
      .update(uploadSteps)
      .set({ status: "queued", message: `Retrying: ${args.reason}` })
      .where(isHeldBy(args))
      .returning({ uploadId: uploadSteps.uploadId });
    if (updated.length === 0) return false;
    await appendJobLog(tx, { uploadId: args.uploadId, level: args.log.level, message: args.log.message });
    return true;
  });
}

/** An admin's retry of a failed step: queued again with a fresh job; false unless it had failed. */
export async function retryFailedUploadStep(executor: Executor, args: { uploadId: string; step: UploadStepName }) {
  return executor.transaction(async (tx) => {
    if (!(await lockUpload(tx, args.uploadId))) return false;
    const [failed] = await tx
      .select({ step: uploadSteps.step })
      .from(uploadSteps)
      .where(and(eq(uploadSteps.uploadId, args.uploadId), eq(uploadSteps.step, args.step), eq(uploadSteps.status, "failed")))
      .for("update");
    if (!failed) return false;
    await queueSteps(tx, args.uploadId, [args.step]);
    await appendJobLog(tx, { uploadId: args.uploadId, message: `${UPLOAD_STEP_LABELS[args.step]}: retried by an admin` });
    return true;
  });
}

/**
 * An admin's cancel of a queued or running step: it fails with "Cancelled by an
 * admin" and its job goes. A running job finishes its work, but its step is no
 * longer held by its job id, so it writes nothing. False unless it was unfinished.
 */
export async function cancelUploadStep(executor: Executor, args: { uploadId: string; step: UploadStepName }) {
  return executor.transaction(async (tx) => {
    if (!(await lockUpload(tx, args.uploadId))) return false;
    const [cancelled] = await tx
      .update(uploadSteps)
      .set({ status: "failed", message: "Cancelled by an admin", finishedAt: sql`now()`, jobId: null })
      .where(
        and(eq(uploadSteps.uploadId, args.uploadId), eq(uploadSteps.step, args.step), inArray(uploadSteps.status, ["queued", "running"])),
      )
      .returning({ step: uploadSteps.step });
    if (!cancelled) return false;
    await removeJob(tx, uploadStepJobKey(args.uploadId, args.step));
    await appendJobLog(tx, { uploadId: args.uploadId, level: "warn", message: `${UPLOAD_STEP_LABELS[args.step]}: cancelled by an admin` });
    return true;
  });
}
