import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import os from "node:os";
import { Logger, parseCrontab, run, type Runner, type Worker as GraphileWorker, type WorkerEvents } from "graphile-worker";
import { sql } from "drizzle-orm";
import pg from "pg";
import { createDatabase } from "@/db/client";
import { DEFAULT_STALE_AFTER_MS, releasePoolJobs } from "@/db/queries/workers";
import { createTaskList } from "@/jobs";
import { CRONTAB } from "@/jobs/crontab";
import type { TaskGroup, TaskName } from "@/jobs/payloads";
import { RenderPool } from "@/lib/render";
import { startHeartbeat } from "./heartbeat";
import { serveWorkerMetrics, type WorkerHealth } from "./metrics";

/** How long the health check waits for the database before calling it unreachable. */
const HEALTH_DATABASE_TIMEOUT_MS = 2_000;

/**
 * statement_timeout of the worker's own pool (not graphile-worker's, whose
 * migrations at start may take as long as they need). Its longest statements are
 * housekeeping's purges and the usage roll-up; a render's PNG goes in as one
 * insert of at most tens of MB. Five minutes also
 * bounds how long a statement in flight holds on once its job was stopped at
 * its time limit (a query cannot be aborted).
 */
const STATEMENT_TIMEOUT_MS = 5 * 60_000;

export type WorkerOptions = {
  databaseUrl: string;
  concurrency: number;
  renderThreads?: number;
  /** How often the worker says it is alive (and looks for workers that are not). */
  heartbeatMs?: number;
  /** Silence after which a worker counts as lost and its jobs are released. */
  staleAfterMs?: number;
  /** On SIGTERM, running jobs get this long to finish; then they are handed back. */
  shutdownGraceMs?: number;
  /** Superseded, cancelled and failed results are purged this many days after they finished. */
  retentionDays?: number;
  /** Scheduled renders above this many pixels go to the large queue (as the web's LARGE_RENDER_PIXELS). */
  largeRenderPixels?: number;
  /** Let watched sources on loopback and private networks be fetched (tests, local development only). */
  allowPrivateSourceHosts?: boolean;
  /** Largest version of a watched source kept (default: UPLOAD_MAX_BYTES). */
  sourceMaxBytes?: number;
  /** Serve Prometheus metrics on this port (0: any free port); none when undefined. */
  metricsPort?: number;
  /** Which tasks to run: "standard", or "large" for the special-hardware queue. */
  group?: TaskGroup;
  /** How long a job of a task may run before it is stopped and fails for good (default: jobs/time-limit.ts). */
  timeLimitsMs?: Partial<Record<TaskName, number>>;
  /** A statement of the worker's (its own or graphile-worker's) that waits this long for a lock fails (lock_timeout). */
  lockTimeoutMs?: number;
  /** Log lines go here (default: stdout). */
  log?: (line: string) => void;
};

export type RunningWorker = { id: string; runner: Runner; metricsPort?: number; stop: () => Promise<void> };

/**
 * lockTimeoutMs: the app's transactions hold their locks for milliseconds, so a
 * statement that has waited 10 s for one waits behind something that may never
 * end (an open transaction of a stalled client); it fails instead, and its job's
 * attempt with it (README: Lock and statement timeouts).
 */
export const WORKER_DEFAULTS = { heartbeatMs: 5_000, staleAfterMs: DEFAULT_STALE_AFTER_MS, shutdownGraceMs: 30_000, retentionDays: 7, lockTimeoutMs: 10_000 } as const;

/**
 * A worker: graphile-worker's runner with our tasks, its own database pools,
 * one render thread pool and a heartbeat. Used by worker/main.ts and,
 * unchanged, by the integration tests.
 */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const log = options.log ?? ((line) => console.log(line));
  const { heartbeatMs, staleAfterMs, shutdownGraceMs, retentionDays, lockTimeoutMs } = { ...WORKER_DEFAULTS, ...withoutUndefined(options) };
  const group = options.group ?? "standard";
  const id = `${os.hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;

  // Our own pool with error handlers: a database restart must not crash the process. Workers connect to
  // Postgres itself (README: Deploy), so the timeouts go in as startup parameters (see db/client.ts).
  const pgPool = new pg.Pool({ connectionString: options.databaseUrl, max: options.concurrency + 2, lock_timeout: lockTimeoutMs });
  pgPool.on("error", (error) => log(`[worker] database connection error: ${error.message}`));
  pgPool.on("connect", (client) => client.on("error", (error) => log(`[worker] database client error: ${error.message}`)));
  const db = createDatabase(options.databaseUrl, {
    max: options.concurrency + 2,
    applicationName: "longrun-worker",
    lockTimeoutMs,
    statementTimeoutMs: STATEMENT_TIMEOUT_MS,
  });
  const renderPool = new RenderPool({ threads: options.renderThreads });
  const taskList = createTaskList(
    {
      db,
      renderPool,
      workerId: id,
      retentionDays,
      largeRenderPixels: options.largeRenderPixels,
      allowPrivateSourceHosts: options.allowPrivateSourceHosts,
      sourceMaxBytes: options.sourceMaxBytes,
      timeLimitsMs: options.timeLimitsMs,
    },
    group,
  );

  const logger = new Logger((scope) => (level, message) => {
    if (level === "debug") return;
    log(`[worker${scope.workerId ? ` ${scope.workerId}` : ""}] ${level}: ${message}`);
  });

  const events: WorkerEvents = new EventEmitter();

  // Each pool's workers, so that a failed pool's running jobs can be let finish.
  const poolWorkers = new Map<string, Set<GraphileWorker>>();
  events.on("worker:create", ({ worker }) => {
    const workers = poolWorkers.get(worker.workerPool.id) ?? new Set();
    poolWorkers.set(worker.workerPool.id, workers.add(worker));
  });

  let heartbeat: Awaited<ReturnType<typeof startHeartbeat>> | undefined;
  const health = async (): Promise<WorkerHealth> => {
    const database = await Promise.race([
      db.execute(sql`select 1`).then(() => "ok" as const),
      new Promise<"unreachable">((resolve) => setTimeout(() => resolve("unreachable"), HEALTH_DATABASE_TIMEOUT_MS).unref()),
    ]).catch(() => "unreachable" as const);
    const beat = heartbeat?.isFresh() ? "fresh" : "stale";
    return { ok: database === "ok" && beat === "fresh", heartbeat: beat, database };
  };
  const metrics = options.metricsPort === undefined ? undefined : await serveWorkerMetrics(events, { port: options.metricsPort, workerId: id, health });

  // The pool id is what graphile-worker writes to locked_by; the heartbeat records it.
  const startRunner = async () => {
    const poolId = new Promise<string>((resolve) => events.once("pool:create", ({ workerPool }) => resolve(workerPool.id)));
    const runner = await run({
      pgPool,
      concurrency: options.concurrency,
      taskList,
      events,
      noHandleSignals: true,
      // The crontab's tasks are standard ones; a large-queue worker carries none.
      parsedCronItems: group === "standard" ? parseCrontab(CRONTAB) : [],
      logger,
      preset: {
        worker: {
          // Without these, a job finishing during a graceful shutdown stays locked (0.17.3).
          completeJobBatchDelay: 0,
          failJobBatchDelay: 0,
          // After the grace period, running tasks see helpers.abortSignal and hand their job back.
          gracefulShutdownAbortTimeout: shutdownGraceMs,
        },
      },
    });
    return { runner, poolId: await poolId };
  };
  let { runner, poolId: currentPoolId } = await startRunner();

  heartbeat = await startHeartbeat({
    db,
    worker: {
      id,
      poolId: currentPoolId,
      host: os.hostname(),
      pid: process.pid,
      concurrency: options.concurrency,
      tasks: Object.keys(taskList),
    },
    intervalMs: heartbeatMs,
    staleAfterMs,
    log,
  });

  let stopping: Promise<void> | undefined;
  let restarting: Promise<void> | undefined;
  const replacedPools = new Set<string>();
  /**
   * graphile-worker 0.17.3 gives up on its pool when recording a job's outcome
   * fails once (a database restart does it: its batcher does not retry). The
   * pool stops taking jobs, the job stays locked, and the runner may never end
   * (the batcher waits forever). Our heartbeat would go on beating, so nobody
   * would release the job and this process would take no more work. Instead:
   * let the pool's running jobs finish, and once the database answers, release
   * what the pool still holds and start a new runner.
   */
  const replaceRunner = (old: Runner, oldPoolId: string, reason: string) => {
    if (stopping || replacedPools.has(oldPoolId)) return;
    replacedPools.add(oldPoolId);
    log(`[worker] error: graphile-worker's pool ${oldPoolId} ${reason}; replacing the runner once its running jobs end and the database answers`);
    void old.stop().catch(() => {}); // stops its cron; its pool is already shutting down
    restarting = (async () => {
      await Promise.allSettled([...(poolWorkers.get(oldPoolId) ?? [])].map((worker) => worker.promise));
      poolWorkers.delete(oldPoolId);
      for (let delayMs = 250; !stopping; delayMs = Math.min(delayMs * 2, 5_000)) {
        try {
          await releasePoolJobs(db, oldPoolId);
          ({ runner, poolId: currentPoolId } = await startRunner());
          heartbeat?.setPoolId(currentPoolId);
          log(`[worker] runner replaced (pool ${currentPoolId})`);
          watchRunner(runner, currentPoolId);
          return;
        } catch (error) {
          log(`[worker] replacing the runner failed, retrying: ${error instanceof Error ? error.message : String(error)}`);
          await new Promise((resolve) => setTimeout(resolve, delayMs));
        }
      }
    })();
  };
  const watchRunner = (watched: Runner, watchedPoolId: string) => {
    void watched.promise.catch(() => {}).then(() => replaceRunner(watched, watchedPoolId, "stopped by itself"));
  };
  events.on("pool:fatalError", ({ workerPool, action }) => {
    if (workerPool.id === currentPoolId) replaceRunner(runner, workerPool.id, `could not ${action}`);
  });
  watchRunner(runner, currentPoolId);

  const stop = () =>
    (stopping ??= (async () => {
      await restarting;
      await runner.stop().catch(() => {}); // already stopped if it stopped by itself while we were stopping
      await metrics?.close();
      await heartbeat?.stop();
      await renderPool.close();
      await db.$client.end({ timeout: 5 });
      await pgPool.end();
    })());

  return {
    id,
    get runner() {
      return runner;
    },
    metricsPort: metrics?.port,
    stop,
  };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
