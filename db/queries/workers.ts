import { and, eq, inArray, ne, sql } from "drizzle-orm";
import type { Executor } from "../client";
import { jobLogs, results, uploadSteps, workerHeartbeats, type WorkerHeartbeat } from "../schema";

export const LOST_WORKER_MESSAGE = "Retrying after a worker was lost";
/** A worker silent this long is lost (WORKER_STALE_AFTER_MS overrides it for the worker). */
export const DEFAULT_STALE_AFTER_MS = 15_000;
/** The first key of every worker lease's advisory lock (the second is heartbeat.lease_key): "lr" + "lease". */
export const WORKER_LEASE_LOCK_CLASS = 0x6c72_1ea5;
/**
 * A Postgres restart ends every lease at once: for this long after one, leases are not judged, so that the workers
 * have time to take theirs again (worker/lease.ts retries within 2 s). A worker slower than that is swept, and the
 * attempts fence what it still runs.
 */
export const LEASE_GRACE_AFTER_RESTART_MS = 10_000;

type WorkerRow = Omit<WorkerHeartbeat, "startedAt" | "lastSeenAt">;

/** Registers the worker (again, after a sweep took it for lost). */
export async function registerWorker(executor: Executor, worker: WorkerRow) {
  await executor
    .insert(workerHeartbeats)
    .values(worker)
    .onConflictDoUpdate({ target: workerHeartbeats.id, set: { lastSeenAt: sql`now()`, poolId: worker.poolId, leaseKey: worker.leaseKey } });
}

/**
 * Says the worker is alive. False when its row is gone: another worker took it for lost, re-queued its running
 * work and released its jobs, so what it still runs now belongs to others (their writes are fenced by attempt).
 */
export async function beatHeart(executor: Executor, worker: Pick<WorkerRow, "id" | "poolId">) {
  const beaten = await executor
    .update(workerHeartbeats)
    // The pool id changes when the worker restarts its runner (see worker/start-worker.ts).
    .set({ lastSeenAt: sql`now()`, poolId: worker.poolId })
    .where(eq(workerHeartbeats.id, worker.id))
    .returning({ id: workerHeartbeats.id });
  return beaten.length > 0;
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
 * Finds lost workers and gives their work back: a worker whose lease is free (its connection ended: the process
 * died) or that has been silent for longer than `staleAfterMs` (connected but stuck: a blocked event loop, a
 * stopped process, a hung host). Deletes their rows (the row lock makes exactly one sweeper handle each), puts
 * their running results and upload steps back in the queue with a message, releases the jobs their pools locked
 * (graphile-worker would keep them for 4 hours), and wakes idle workers to take them.
 *
 * Leases are judged only once Postgres has been up for LEASE_GRACE_AFTER_RESTART_MS. Uses the database's clock, so
 * workers on different machines agree.
 */
export async function recoverLostWorkers(executor: Executor, args: { staleAfterMs: number; selfId?: string }) {
  const staleAfter = sql`make_interval(secs => ${args.staleAfterMs / 1000})`;
  return executor.transaction(async (tx) => {
    const lost = await tx
      .delete(workerHeartbeats)
      .where(
        inArray(
          workerHeartbeats.id,
          tx
            .select({ id: workerHeartbeats.id })
            .from(workerHeartbeats)
            .where(
              and(
                args.selfId === undefined ? undefined : ne(workerHeartbeats.id, args.selfId),
                sql`(${workerHeartbeats.lastSeenAt} < now() - ${staleAfter}
                  or (${workerHeartbeats.leaseKey} is not null
                    and pg_postmaster_start_time() < now() - make_interval(secs => ${LEASE_GRACE_AFTER_RESTART_MS / 1000})
                    and pg_try_advisory_xact_lock(${WORKER_LEASE_LOCK_CLASS}, ${workerHeartbeats.leaseKey})))`,
              ),
            )
            .for("update", { skipLocked: true }),
        ),
      )
      .returning({ id: workerHeartbeats.id, poolId: workerHeartbeats.poolId, concurrency: workerHeartbeats.concurrency });
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
    // graphile-worker's own wake-up call (as add_job sends it): idle workers fetch now, not at their next poll.
    const count = lost.reduce((sum, worker) => sum + worker.concurrency, 0);
    await tx.execute(sql`select pg_notify('jobs:insert', ${JSON.stringify({ r: Math.random(), count })})`);
    return lost;
  });
}
