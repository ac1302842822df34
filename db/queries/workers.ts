import { and, eq, inArray, sql } from "drizzle-orm";
import type { Executor } from "../client";
import { jobLogs, results, uploadSteps, workerHeartbeats, type WorkerHeartbeat } from "../schema";

export const LOST_WORKER_MESSAGE = "Retrying after a worker was lost";
/** A worker silent this long is lost (WORKER_STALE_AFTER_MS overrides it for the worker). */
export const DEFAULT_STALE_AFTER_MS = 15_000;

/** Registers the worker, or refreshes it (a row swept while we were unreachable comes back). */
export async function beatHeart(executor: Executor, worker: Omit<WorkerHeartbeat, "startedAt" | "lastSeenAt">) {
  await executor
    .insert(workerHeartbeats)
    .values(worker)
    // The pool id changes when the worker restarts its runner (see worker/start-worker.ts).
    .onConflictDoUpdate({ target: workerHeartbeats.id, set: { lastSeenAt: sql`now()`, poolId: worker.poolId } });
}

/**
 * Releases the jobs a graphile-worker pool still holds locked: only for a pool
 * known to be finished (one of our own runners that stopped), as the sweep
 * below does for the pools of lost workers.
 */
export async function releasePoolJobs(executor: Executor, poolId: string) {
  await executor.execute(sql`select graphile_worker.force_unlock_workers(array[${poolId}]::text[])`);
}

export async function removeHeartbeat(executor: Executor, workerId: string) {
  await executor.delete(workerHeartbeats).where(eq(workerHeartbeats.id, workerId));
}

/**
 * Workers silent for longer than `staleAfterMs` are gone: delete their rows
 * (the row lock makes exactly one sweeper handle each), put their running
 * results and upload steps back in the queue with a message, and release the jobs their pools
 * locked, which graphile-worker would otherwise keep for 4 hours.
 * Uses the database's clock, so workers on different machines agree.
 */
export async function recoverLostWorkers(executor: Executor, args: { staleAfterMs: number }) {
  return executor.transaction(async (tx) => {
    const lost = await tx
      .delete(workerHeartbeats)
      .where(sql`${workerHeartbeats.lastSeenAt} < now() - make_interval(secs => ${args.staleAfterMs / 1000})`)
      .returning({ id: workerHeartbeats.id, poolId: workerHeartbeats.poolId });
    if (lost.length === 0) return [];
    const requeued = await tx
      .update(results)
      .set({ status: "queued", message: LOST_WORKER_MESSAGE, progress: 0 })
      .where(
        and(
          inArray(
            results.workerId,
            lost.map((worker) => worker.id),
          ),
          eq(results.status, "running"),
        ),
      )
      .returning({ id: results.id, workerId: results.workerId });
    if (requeued.length > 0) {
      await tx.insert(jobLogs).values(
        requeued.map((result) => ({
          resultId: result.id,
          level: "warn" as const,
          message: `Worker ${result.workerId} was lost; retrying`,
        })),
      );
    }
    const lostIds = lost.map((worker) => worker.id);
    const requeuedSteps = await tx
      .update(uploadSteps)
      .set({ status: "queued", message: LOST_WORKER_MESSAGE })
      .where(and(inArray(uploadSteps.workerId, lostIds), eq(uploadSteps.status, "running")))
      .returning({ uploadId: uploadSteps.uploadId, step: uploadSteps.step, workerId: uploadSteps.workerId });
    if (requeuedSteps.length > 0) {
      await tx.insert(jobLogs).values(
        requeuedSteps.map((step) => ({
          uploadId: step.uploadId,
          level: "warn" as const,
          message: `${step.step}: worker ${step.workerId} was lost; retrying`,
        })),
      );
    }
    const poolIds = sql.join(
      lost.map((worker) => sql`${worker.poolId}`),
      sql`, `,
    );
    await tx.execute(sql`select graphile_worker.force_unlock_workers(array[${poolIds}]::text[])`);
    return lost;
  });
}
