import { createHash } from "node:crypto";
import type { JobHelpers, Task } from "graphile-worker";
import type { Database } from "@/db/client";
import { appendJobLog } from "@/db/queries/job-logs";
import {
  claimRender,
  completeRender,
  handBackRender,
  recordRenderFailure,
  recordStoppedRenderCost,
  reportRenderProgress,
  rerankQueuedRenders,
  type RenderAttempt,
} from "@/db/queries/render-jobs";
import type { LogLevel } from "@/db/schema";
import { describeError } from "@/lib/errors";
import { isRenderAborted, renderPng, rgbImage, type RenderPool } from "@/lib/render";
import { parsePayload } from "./parse-payload";
import { taskPayloads } from "./payloads";
import { StaleAttempt } from "./stale-attempt";
import { timeLimitExceeded, TimeLimitExceeded } from "./time-limit";

// Registered as "render" and as "render_large" (the dedicated queue); both carry a result id.
export const payloadSchema = taskPayloads.render;

/** How often a render writes progress; each write also tells it whether it is still wanted. */
const PROGRESS_INTERVAL_MS = 250;
const THUMBNAIL_SIZE = 256;

export type RenderTaskDependencies = { db: Database; renderPool: RenderPool; workerId: string };

export function createRenderTask({ db, renderPool, workerId }: RenderTaskDependencies): Task {
  return async (rawPayload, helpers) => {
    const { resultId } = await parsePayload(payloadSchema, rawPayload, helpers);
    const claimed = await claimRender(db, { resultId, workerId });
    if (!claimed) {
      // Cancelled, superseded or already done: at-least-once delivery makes this normal.
      helpers.logger.info(`result ${resultId} needs no render`);
      return;
    }

    const attempt = { resultId, attempt: claimed.attempts };
    // Set once a write is refused because another attempt owns the render now: this one then writes nothing more.
    let stale: StaleAttempt | undefined;
    const becameStale = () => (stale ??= new StaleAttempt(`result ${resultId}`, claimed.attempts));

    // The result's own log (shown on its page), mirrored to the worker's log.
    const say = async (message: string, level: LogLevel = "info") => {
      helpers.logger[level === "warn" ? "warn" : level](`result ${resultId}: ${message}`);
      if (stale) return;
      await appendJobLog(db, { resultId, level, message }).catch(() => {}); // a lost log line must not fail the render
    };
    const { params } = claimed;
    await say(
      `Attempt ${claimed.attempts} on ${workerId}: ${params.width}x${params.height}, depth ${params.depth}, ${renderPool.threads} threads`,
    );

    const unwanted = new AbortController();
    const progress = throttledProgress(db, attempt, (why) => {
      if (why === "stale") becameStale();
      unwanted.abort(new Error(why === "stale" ? "taken over by another attempt" : "no longer wanted"));
    });
    let spent = { wallMs: 0, cpuMs: 0 };

    try {
      const outcome = await renderPng(renderPool, claimed.params, {
        // Cancelled or superseded (a progress write says so), or helpers.abortSignal: a worker shutdown or the time limit.
        signal: AbortSignal.any([unwanted.signal, helpers.abortSignal]),
        onProgress: ({ fraction }) => progress.report(fraction),
        onSettled: (cost) => {
          spent = cost;
        },
      });
      await progress.settled();
      // From the pixels, not the PNG: no decoding it again.
      const thumbnail = await rgbImage(outcome.rgb, params.width, params.height)
        .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: "inside" })
        .webp()
        .toBuffer();
      const stored = await completeRender(db, {
        ...attempt,
        image: { sha256: sha256(outcome.png), contentType: "image/png", data: outcome.png },
        thumbnail: { sha256: sha256(thumbnail), contentType: "image/webp", data: thumbnail },
        iterations: outcome.iterations,
        wallMs: outcome.wallMs,
        cpuMs: outcome.cpuMs,
      });
      if (stored === "stale") throw becameStale();
      await say(
        stored === "stored"
          ? `Rendered in ${Math.round(outcome.wallMs)} ms (CPU ${Math.round(outcome.cpuMs)} ms, ${outcome.iterations} iterations), PNG ${outcome.png.length} bytes`
          : "Finished, but the result was cancelled meanwhile; nothing stored",
      );
    } catch (error) {
      await progress.settled();
      // Thrown, so graphile-worker does not complete (delete) the job another worker now holds; failing it is refused
      // there too (its locked_by is no longer this worker's pool).
      if (stale) {
        helpers.logger.warn(`result ${resultId}: attempt ${claimed.attempts} stopped: ${stale.message}`);
        throw stale;
      }
      // Stopped at its time limit: a failure like any other (its threads have stopped), but final.
      const timedOut = timeLimitExceeded(helpers);
      if (helpers.abortSignal.aborted && !timedOut) {
        const task = helpers.job.task_identifier === "render_large" ? "render_large" : "render";
        const handedBack = await handBackRender(db, {
          ...attempt,
          task,
          message: "Interrupted by a worker shutdown; waiting for a worker",
        });
        if (handedBack === "stale") throw becameStale();
        await say("Handed back to the queue: this worker is shutting down", "warn");
        return;
      }
      if (isRenderAborted(error) && !timedOut) {
        await recordStoppedRenderCost(db, { ...attempt, ...spent });
        await say("Stopped early: cancelled or superseded");
        return;
      }
      const failure = timedOut ?? error;
      await say(`Attempt ${claimed.attempts} failed: ${describeError(failure)}`, "error");
      // What it computed is accounted too (a render stopped at its time limit may have run for hours).
      await recordFailure(db, { ...attempt, error: failure, cost: spent }, helpers);
      throw failure;
    } finally {
      // Its owner has one render fewer running: their queue moves up. Best effort: the order is a preference.
      await rerankQueuedRenders(db, claimed.ownerId).catch((error: unknown) =>
        helpers.logger.warn(`re-ranking queued renders failed: ${String(error)}`),
      );
    }
  };
}

async function recordFailure(
  db: Database,
  { error, cost, ...attempt }: RenderAttempt & { error: unknown; cost: { wallMs: number; cpuMs: number } },
  helpers: JobHelpers,
) {
  const { attempts, max_attempts: maxAttempts } = helpers.job;
  await recordRenderFailure(db, {
    ...attempt,
    error: describeError(error),
    // A time limit would be reached again: the job is not retried (jobs/time-limit.ts).
    isFinal: error instanceof TimeLimitExceeded || attempts >= maxAttempts,
    cost,
    // graphile-worker's backoff: run_at += exp(min(attempts, 10)) seconds.
    retryInSeconds: Math.ceil(Math.exp(Math.min(attempts, 10))),
  });
}

/**
 * Progress arrives after every band; write at most every PROGRESS_INTERVAL_MS,
 * one write at a time. A refused write (the result is no longer this attempt's to render) stops the render.
 */
function throttledProgress(db: Database, attempt: RenderAttempt, onRefused: (why: "stale" | "unwanted") => void) {
  let lastWriteAt = 0;
  let inFlight: Promise<void> = Promise.resolve();
  let isWriting = false;
  return {
    report(fraction: number) {
      const now = performance.now();
      if (isWriting || now - lastWriteAt < PROGRESS_INTERVAL_MS) return;
      lastWriteAt = now;
      isWriting = true;
      inFlight = reportRenderProgress(db, { ...attempt, progress: fraction, message: `Rendering ${Math.floor(fraction * 100)}%` })
        .then((answer) => {
          if (answer !== "wanted") onRefused(answer);
        })
        .catch(() => {}) // a missed progress write is harmless; the next one retries
        .finally(() => {
          isWriting = false;
        });
    },
    settled: () => inFlight,
  };
}

function sha256(data: Buffer) {
  return createHash("sha256").update(data).digest("hex");
}
