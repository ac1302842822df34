/**
 * Workaround: graphile-worker 0.17.3 gives up on its worker pool when recording a job's outcome fails once.
 *
 * Upstream: with completeJobBatchDelay/failJobBatchDelay set (we set them, see graphile-worker-shutdown-outcomes.ts),
 * outcomes go through `batch()` in src/main.ts, whose retry loop leaves at the first failure (`throw` in 0.17,
 * `break` in 0.18). One failed write (a database restart, a lock_timeout on the job's row) emits
 * `pool:fatalError` and shuts the pool down: the job stays locked, the pool takes no more jobs, and the runner
 * may never end (the batcher waits forever). Our heartbeat would go on beating, so nobody would release the job.
 * https://github.com/graphile/worker/issues/636 (open).
 *
 * What this does: when the pool gives up (or the runner ends by itself), let that pool's running jobs finish,
 * release what it still holds once the database answers, and start a new runner.
 *
 * Delete when: a graphile-worker release retries batched completions and failures. Check by running
 * worker/database-restart.integration.test.ts ("a render that ends while Postgres is down is finished after the
 * restart") and worker/hanging-jobs.integration.test.ts ("graphile-worker's own statement blocked on a job's row")
 * with `watch()` not called: both must still pass.
 */
import type { Runner, Worker as GraphileWorker, WorkerEvents } from "graphile-worker";

export type StartedRunner = { runner: Runner; poolId: string };

export type RunnerSupervisorOptions = {
  events: WorkerEvents;
  /** Starts a runner and resolves with it and the id of its pool (what graphile-worker writes to locked_by). */
  startRunner: () => Promise<StartedRunner>;
  /** Unlocks the jobs a pool still holds (graphile_worker.force_unlock_workers). */
  releasePoolJobs: (poolId: string) => Promise<void>;
  /** Once true, a runner that gave up is not replaced. */
  isStopping: () => boolean;
  /** Called with the new pool's id after a replacement (the heartbeat records it). */
  onReplaced: (poolId: string) => void;
  log: (line: string) => void;
};

export type RunnerSupervisor = {
  /** Starts the first runner. Call `watch()` once what `onReplaced` needs is ready. */
  start: () => Promise<StartedRunner>;
  watch: () => void;
  /** The runner now running: the first, or the latest replacement. */
  readonly runner: Runner;
  readonly poolId: string;
  /** A replacement under way, if any: settles once it has started, or given up because the worker stops. */
  readonly replacing: Promise<void> | undefined;
};

export function createRunnerSupervisor(options: RunnerSupervisorOptions): RunnerSupervisor {
  const { events, startRunner, releasePoolJobs, isStopping, onReplaced, log } = options;
  let current: StartedRunner | undefined;
  let replacing: Promise<void> | undefined;
  const replacedPools = new Set<string>();

  // Each pool's workers, so that a failed pool's running jobs can be let finish.
  const poolWorkers = new Map<string, Set<GraphileWorker>>();
  events.on("worker:create", ({ worker }) => {
    const workers = poolWorkers.get(worker.workerPool.id) ?? new Set();
    poolWorkers.set(worker.workerPool.id, workers.add(worker));
  });

  const replaceRunner = (old: Runner, oldPoolId: string, reason: string) => {
    if (isStopping() || replacedPools.has(oldPoolId)) return;
    replacedPools.add(oldPoolId);
    log(
      `[worker] error: graphile-worker's pool ${oldPoolId} ${reason}; replacing the runner once its running jobs end and the database answers`,
    );
    void old.stop().catch(() => {}); // stops its cron; its pool is already shutting down
    replacing = (async () => {
      await Promise.allSettled([...(poolWorkers.get(oldPoolId) ?? [])].map((worker) => worker.promise));
      poolWorkers.delete(oldPoolId);
      for (let delayMs = 250; !isStopping(); delayMs = Math.min(delayMs * 2, 5_000)) {
        try {
          await releasePoolJobs(oldPoolId);
          current = await startRunner();
          onReplaced(current.poolId);
          log(`[worker] runner replaced (pool ${current.poolId})`);
          watchRunner(current);
          return;
        } catch (error) {
          log(`[worker] replacing the runner failed, retrying: ${error instanceof Error ? error.message : String(error)}`);
          await new Promise((resolve) => setTimeout(resolve, delayMs));
        }
      }
    })();
  };
  const watchRunner = (watched: StartedRunner) => {
    void watched.runner.promise.catch(() => {}).then(() => replaceRunner(watched.runner, watched.poolId, "stopped by itself"));
  };
  const started = () => {
    if (!current) throw new Error("The runner supervisor has not started a runner yet");
    return current;
  };

  return {
    start: async () => (current = await startRunner()),
    watch: () => {
      events.on("pool:fatalError", ({ workerPool, action }) => {
        const { runner, poolId } = started();
        if (workerPool.id === poolId) replaceRunner(runner, workerPool.id, `could not ${action}`);
      });
      watchRunner(started());
    },
    get runner() {
      return started().runner;
    },
    get poolId() {
      return started().poolId;
    },
    get replacing() {
      return replacing;
    },
  };
}
