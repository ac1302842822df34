import { createHash } from "node:crypto";
import type { Task } from "graphile-worker";
import type { Database } from "@/db/client";
import {
  claimUploadStep,
  completeChecksum,
  completeThumbnail,
  completeTypeDetection,
  failUploadStep,
  isStaleStepAttempt,
  type LogLine,
  type StepCost,
  type StepJob,
} from "@/db/queries/upload-jobs";
import type { LogLevel } from "@/db/schema";
import { readUploadBytes } from "@/db/storage";
import { formatBytes } from "@/lib/format";
import { detectType, DETECTION_BYTES } from "@/lib/uploads/detect-type";
import { isThumbnailable } from "@/lib/uploads/media-types";
import { md5InThread } from "@/lib/uploads/md5";
import { UPLOAD_STEP_LABELS } from "@/lib/uploads/steps";
import { makeThumbnail, refuseOversizedThumbnailInput, THUMBNAIL_MAX_INPUT_BYTES, ThumbnailRefused } from "@/lib/uploads/thumbnail";
import { parsePayload } from "./parse-payload";
import { StaleAttempt } from "./stale-attempt";
import { taskPayloads, UPLOAD_STEP_TASKS, type UploadStep } from "./payloads";
import { timeLimitExceeded } from "./time-limit";

export type UploadTaskDependencies = { db: Database; workerId: string };

type Claimed = NonNullable<Awaited<ReturnType<typeof claimUploadStep>>>;
type StepContext = {
  uploadId: string;
  /** The step and the job that holds it: every outcome is written only while it still does. */
  job: StepJob;
  upload: Claimed;
  meter: ReturnType<typeof startMeter>;
  /** A line of the upload's log, labelled with the step and mirrored to the worker's log; written with the step's outcome. */
  line: (message: string, level?: LogLevel) => LogLine;
  /** Aborts on a worker shutdown or at the step's time limit: reading stops. */
  signal: AbortSignal;
};

/** The three processing steps of an upload, as graphile-worker tasks. */
export function createUploadTasks(dependencies: UploadTaskDependencies): Record<(typeof UPLOAD_STEP_TASKS)[UploadStep], Task> {
  return {
    upload_checksum: stepTask(dependencies, "checksum", checksum),
    upload_type: stepTask(dependencies, "type", detect),
    upload_thumbnail: stepTask(dependencies, "thumbnail", thumbnail),
  };
}

async function checksum({ db }: UploadTaskDependencies, { job, upload, meter, line, signal }: StepContext) {
  const { md5: digest, bytes } = await md5InThread(readUploadBytes(db, upload, signal));
  meter.bytesRead = bytes;
  if (bytes !== upload.size) throw new Error(`Read ${bytes} bytes, but the file has ${upload.size}`);
  const cost = meter.cost();
  return completeChecksum(db, {
    ...job,
    md5: digest,
    cost,
    log: line(`md5 ${digest} over ${formatBytes(upload.size)} in ${Math.round(cost.wallMs)} ms`),
  });
}

async function detect({ db }: UploadTaskDependencies, { job, upload, meter, line, signal }: StepContext) {
  const head = await readHead(db, upload, DETECTION_BYTES, signal);
  meter.bytesRead = head.length;
  const detectedType = await detectType(head, upload.size);
  const thumbnailNote = isThumbnailable(detectedType) ? "; thumbnail queued" : "";
  return completeTypeDetection(db, {
    ...job,
    detectedType,
    cost: meter.cost(),
    log: line(`from content: ${detectedType}${thumbnailNote}`),
  });
}

async function thumbnail({ db }: UploadTaskDependencies, { job, upload, meter, line, signal }: StepContext) {
  refuseOversizedThumbnailInput(upload.size); // before reading any of it
  const bytes = await readHead(db, upload, THUMBNAIL_MAX_INPUT_BYTES, signal);
  meter.bytesRead = bytes.length;
  const made = await makeThumbnail(bytes, upload.detectedType ?? "");
  meter.bytesWritten = made.webp.length;
  const sha256 = createHash("sha256").update(made.webp).digest("hex");
  const log = line(`${made.width}x${made.height} image, ${formatBytes(made.webp.length)} WebP`);
  return completeThumbnail(db, {
    ...job,
    thumbnail: { sha256, data: made.webp },
    width: made.width,
    height: made.height,
    cost: meter.cost(),
    log,
  });
}

function stepTask(
  dependencies: UploadTaskDependencies,
  step: UploadStep,
  /** Resolves with whether its outcome was written (false: the step is no longer this attempt's). */
  run: (deps: UploadTaskDependencies, context: StepContext) => Promise<boolean>,
): Task {
  const { db, workerId } = dependencies;
  return async (rawPayload, helpers) => {
    const { uploadId } = await parsePayload(taskPayloads[UPLOAD_STEP_TASKS[step]], rawPayload, helpers);
    const upload = await claimUploadStep(db, { uploadId, step, jobId: helpers.job.id, workerId });
    if (!upload) {
      // Deleted, re-queued under a newer job, or already done: normal with at-least-once delivery.
      helpers.logger.info(`upload ${uploadId}: ${step} needs no run`);
      return;
    }
    const job: StepJob = { uploadId, step, jobId: helpers.job.id, attempt: upload.attempts };
    const line = (message: string, level: LogLevel = "info"): LogLine => {
      helpers.logger[level](`upload ${uploadId}: ${step}: ${message}`);
      return { level, message: `${UPLOAD_STEP_LABELS[step]}: ${message}` };
    };
    const meter = startMeter();
    const refused = async () => {
      if (await isStaleStepAttempt(db, job)) throw new StaleAttempt(`upload ${uploadId}: ${step}`, job.attempt);
    };
    try {
      if (!(await run(dependencies, { uploadId, job, upload, meter, line, signal: helpers.abortSignal }))) await refused();
    } catch (error) {
      if (error instanceof StaleAttempt) {
        helpers.logger.warn(error.message);
        throw error;
      }
      // Bad content and the step's time limit fail for good at once, with their reason (either would
      // happen again); anything else (the database, the network) retries, and people see a plain
      // message: its details are for the worker's log.
      const finalFailure = error instanceof ThumbnailRefused ? error : timeLimitExceeded(helpers);
      const isFinal = finalFailure !== undefined || helpers.job.attempts >= helpers.job.max_attempts;
      const reason = finalFailure ? finalFailure.message : isFinal ? "Processing failed; process the file again" : "A temporary error";
      if (!finalFailure) helpers.logger.error(`upload ${uploadId}: ${step}: ${error instanceof Error ? error.stack : String(error)}`);
      const log = isFinal ? line(`failed: ${reason}`, "error") : line(`attempt ${upload.attempts} failed, will retry: ${reason}`, "warn");
      // No step to fail (its upload deleted, or the step reset meanwhile): nothing to retry, the job is done.
      // Failing it would leave it in graphile-worker's table for good: a delete removes a running job's key and attempts.
      if (!(await failUploadStep(db, { ...job, reason, isFinal, cost: meter.cost(), log }))) return refused();
      if (!isFinal) throw error;
    }
  };
}

/** The first `limit` bytes of an upload (all of it if smaller), reading no further. */
async function readHead(db: Database, upload: Claimed, limit: number, signal: AbortSignal) {
  const parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of readUploadBytes(db, upload, signal)) {
    parts.push(chunk);
    length += chunk.length;
    if (length >= limit) break;
  }
  return Buffer.concat(parts).subarray(0, limit);
}

/** Wall time and this process's CPU time over a step (concurrent jobs in the same process add to the CPU figure). */
function startMeter() {
  const startedAt = performance.now();
  const cpuAtStart = process.cpuUsage();
  return {
    bytesRead: 0,
    bytesWritten: 0,
    cost(this: { bytesRead: number; bytesWritten: number }): StepCost {
      const cpu = process.cpuUsage(cpuAtStart);
      return {
        wallMs: performance.now() - startedAt,
        cpuMs: (cpu.user + cpu.system) / 1000,
        bytesRead: this.bytesRead,
        bytesWritten: this.bytesWritten,
      };
    },
  };
}
