import { setTimeout as sleep } from "node:timers/promises";
import type { Database } from "@/db/client";
import { beatHeart, recoverLostWorkers, registerWorker, removeHeartbeat } from "@/db/queries/workers";
import type { Lease } from "./lease";

export type HeartbeatOptions = {
  db: Database;
  worker: { id: string; poolId: string; host: string; pid: number; concurrency: number; tasks: string[] };
  lease: Lease;
  intervalMs: number;
  staleAfterMs: number;
  /** How often to look for lost workers: a free lease is found within this. */
  sweepMs: number;
  log: (line: string) => void;
};

/**
 * Beats every `intervalMs` on the main thread (renders run in worker threads, so long work never delays it), and
 * every `sweepMs` recovers the work of workers whose lease is free or who stopped beating (db/queries/workers.ts).
 */
export async function startHeartbeat({ db, worker, lease, intervalMs, staleAfterMs, sweepMs, log }: HeartbeatOptions) {
  const row = () => ({ ...worker, leaseKey: lease.key });
  let lastBeatAt = -Infinity;
  const beat = async () => {
    try {
      // Registered only while the lease is held: a row with a free lease is taken for a dead worker's.
      if (!lease.isHeld()) return;
      if (!(await beatHeart(db, worker))) {
        log(
          `[worker] this worker was taken for lost (its lease dropped, or it did not beat for ${staleAfterMs / 1000} s): ` +
            `its running work was given to others, whose attempts fence this one's writes; registering again`,
        );
        await registerWorker(db, row());
      }
      lastBeatAt = performance.now();
    } catch (error) {
      // The database may be restarting; the next beat tries again.
      log(`[worker] heartbeat failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const sweep = async () => {
    try {
      const lost = await recoverLostWorkers(db, { staleAfterMs, selfId: worker.id });
      for (const { id } of lost) log(`[worker] worker ${id} was lost; its jobs are back in the queue`);
    } catch (error) {
      log(`[worker] looking for lost workers failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  await registerWorker(db, row());
  lastBeatAt = performance.now();
  await sweep();

  // Each on its own chain, one run at a time: a slow beat never delays a sweep, nor the other way round.
  const every = (ms: number, run: () => Promise<void>) => {
    let running = Promise.resolve();
    const timer = setInterval(() => {
      running = running.then(run);
    }, ms);
    timer.unref();
    return { timer, running: () => running };
  };
  const beats = every(intervalMs, beat);
  const sweeps = every(sweepMs, sweep);
  return {
    /** Whether the last beat that reached the database is recent enough that no one takes this worker for lost. */
    isFresh: () => lease.isHeld() && performance.now() - lastBeatAt < staleAfterMs,
    /** A restarted runner has a new pool id; the next beat records it. */
    setPoolId: (poolId: string) => {
      worker.poolId = poolId;
    },
    /**
     * Stops beating and sweeping and, with `deregister`, removes the row (waiting for a beat under way first),
     * giving up after `timeoutMs`: a row left behind is swept by another worker once the lease is released.
     * Returns whether the row was removed.
     */
    stop: async ({ deregister, timeoutMs }: { deregister: boolean; timeoutMs: number }) => {
      clearInterval(beats.timer);
      clearInterval(sweeps.timer);
      if (!deregister) return false;
      const removed = Promise.all([beats.running(), sweeps.running()])
        .then(() => removeHeartbeat(db, worker.id))
        .then(
          () => "removed" as const,
          (error: unknown) => `failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      const outcome = await Promise.race([removed, sleep(timeoutMs, `no answer within ${timeoutMs / 1000} s`, { ref: false })]);
      if (outcome !== "removed") log(`[worker] removing the heartbeat gave up (${outcome}); another worker will find this one gone`);
      return outcome === "removed";
    },
  };
}
