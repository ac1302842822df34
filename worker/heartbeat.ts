import { setTimeout as sleep } from "node:timers/promises";
import type { Database } from "@/db/client";
import { beatHeart, recoverLostWorkers, removeHeartbeat } from "@/db/queries/workers";

export type HeartbeatOptions = {
  db: Database;
  worker: { id: string; poolId: string; host: string; pid: number; concurrency: number; tasks: string[] };
  intervalMs: number;
  staleAfterMs: number;
  log: (line: string) => void;
};

/**
 * Beats every `intervalMs` on the main thread (renders run in worker threads,
 * so long work never delays it) and, on each beat, recovers the jobs of
 * workers that stopped beating.
 */
export async function startHeartbeat({ db, worker, intervalMs, staleAfterMs, log }: HeartbeatOptions) {
  let lastBeatAt = -Infinity;
  const beat = async () => {
    try {
      await beatHeart(db, worker);
      lastBeatAt = performance.now();
      const lost = await recoverLostWorkers(db, { staleAfterMs });
      for (const { id } of lost) log(`[worker] worker ${id} stopped beating; its jobs are back in the queue`);
    } catch (error) {
      // The database may be restarting; the next beat tries again.
      log(`[worker] heartbeat failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  await beat();
  let running = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(beat);
  }, intervalMs);
  timer.unref();
  return {
    /** Whether the last beat that reached the database is recent enough that no one takes this worker for lost. */
    isFresh: () => performance.now() - lastBeatAt < staleAfterMs,
    /** A restarted runner has a new pool id; the next beat records it. */
    setPoolId: (poolId: string) => {
      worker.poolId = poolId;
    },
    /**
     * Stops beating and, with `deregister`, removes the row (waiting for a beat under way first),
     * giving up after `timeoutMs`: a row left behind is swept by another worker after staleAfterMs.
     * Returns whether the row was removed.
     */
    stop: async ({ deregister, timeoutMs }: { deregister: boolean; timeoutMs: number }) => {
      clearInterval(timer);
      if (!deregister) return false;
      const removed = running
        .then(() => removeHeartbeat(db, worker.id))
        .then(
          () => "removed" as const,
          (error: unknown) => `failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      const outcome = await Promise.race([removed, sleep(timeoutMs, `no answer within ${timeoutMs / 1000} s`, { ref: false })]);
      if (outcome !== "removed") log(`[worker] removing the heartbeat gave up (${outcome}); another worker will find this one silent`);
      return outcome === "removed";
    },
  };
}
