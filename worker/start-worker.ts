import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { Logger, parseCrontab, type LogLevel, run, type Runner, type WorkerEvents } from "graphile-worker";
import { sql } from "drizzle-orm";
import pg from "pg";
import { CONNECT_TIMEOUT_S, createDatabase } from "@/db/client";
import { getQueueDepth, QUEUE_DEPTH_MAX_AGE_MS } from "@/db/queries/queue";
import { DEFAULT_STALE_AFTER_MS, releasePoolJobs } from "@/db/queries/workers";
import { createTaskList } from "@/jobs";
import { CRONTAB } from "@/jobs/crontab";
import { taskPayloads, type TaskGroup, type TaskName } from "@/jobs/payloads";
import { cachedFor } from "@/lib/cached";
import { RenderPool } from "@/lib/render";
import { startHeartbeat } from "./heartbeat";
import { takeLease } from "./lease";
import { serveWorkerMetrics, type WorkerHealth } from "./metrics";
import { createRunnerSupervisor } from "./workarounds/graphile-worker-runner-supervision";
import { RECORD_OUTCOMES_DURING_SHUTDOWN } from "./workarounds/graphile-worker-shutdown-outcomes";
import { giveUpWhenDatabaseSilent } from "./workarounds/graphile-worker-shutdown-without-database";

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

/**
 * On SIGTERM, a database that has not answered for this long is taken for
 * gone: the worker stops waiting for the steps that need it (see stop below and
 * workarounds/graphile-worker-shutdown-without-database.ts).
 */
const SHUTDOWN_DATABASE_TIMEOUT_MS = CONNECT_TIMEOUT_S * 1000;

export type WorkerOptions = {
  databaseUrl: string;
  concurrency: number;
  renderThreads?: number;
  /** How often the worker says it is alive (and looks for workers that are not). */
  heartbeatMs?: number;
  /** Silence after which a worker counts as lost and its jobs are released. */
  staleAfterMs?: number;
  /** How often to look for workers whose lease is free (they died) or who went silent. */
  sweepMs?: number;
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
 * attempt with it (docs/operations/workers-and-recovery.md).
 */
export const WORKER_DEFAULTS = {
  heartbeatMs: 5_000,
  staleAfterMs: DEFAULT_STALE_AFTER_MS,
  sweepMs: 500,
  shutdownGraceMs: 30_000,
  retentionDays: 7,
  lockTimeoutMs: 10_000,
} as const;

/**
 * A worker: graphile-worker's runner with our tasks, its own database pools,
 * one render thread pool and a heartbeat. Used by worker/main.ts and,
 * unchanged, by the integration tests.
 */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const log = options.log ?? ((line) => console.log(line));
  const { heartbeatMs, staleAfterMs, sweepMs, shutdownGraceMs, retentionDays, lockTimeoutMs } = {
    ...WORKER_DEFAULTS,
    ...withoutUndefined(options),
  };
  const group = options.group ?? "standard";
  const id = `${os.hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;

  // Our own pool with error handlers: a database restart must not crash the process. Workers connect to
  // Postgres itself (docs/operations/deploy.md), so the timeouts go in as startup parameters (see db/client.ts).
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
    // LogLevel is an ambient const enum, which isolatedModules cannot read as a value.
    if (level === ("debug" as LogLevel)) return;
    log(`[worker${scope.workerId ? ` ${scope.workerId}` : ""}] ${level}: ${message}`);
  });

  const events: WorkerEvents = new EventEmitter();

  let heartbeat: Awaited<ReturnType<typeof startHeartbeat>> | undefined;
  const health = async (): Promise<WorkerHealth> => {
    const database = await Promise.race([
      db.execute(sql`select 1`).then(() => "ok" as const),
      new Promise<"unreachable">((resolve) => setTimeout(() => resolve("unreachable"), HEALTH_DATABASE_TIMEOUT_MS).unref()),
    ]).catch(() => "unreachable" as const);
    const beat = heartbeat?.isFresh() ? "fresh" : "stale";
    return { ok: database === "ok" && beat === "fresh", heartbeat: beat, database };
  };
  const queueDepth = cachedFor(QUEUE_DEPTH_MAX_AGE_MS, () => getQueueDepth(db, Object.keys(taskPayloads)));
  const metrics =
    options.metricsPort === undefined
      ? undefined
      : await serveWorkerMetrics(events, { port: options.metricsPort, workerId: id, health, queueDepth });

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
          ...RECORD_OUTCOMES_DURING_SHUTDOWN,
          // After the grace period, running tasks see helpers.abortSignal and hand their job back.
          gracefulShutdownAbortTimeout: shutdownGraceMs,
        },
      },
    });
    return { runner, poolId: await poolId };
  };
  let stopping: Promise<void> | undefined;
  const supervisor = createRunnerSupervisor({
    events,
    startRunner,
    releasePoolJobs: (poolId) => releasePoolJobs(db, poolId),
    isStopping: () => stopping !== undefined,
    onReplaced: (poolId) => heartbeat?.setPoolId(poolId),
    log,
  });
  // Before the runner takes any job: while this lease is held, no sweep takes this worker for dead.
  const lease = await takeLease({ databaseUrl: options.databaseUrl, log });
  const { poolId: firstPoolId } = await supervisor.start();

  heartbeat = await startHeartbeat({
    db,
    worker: {
      id,
      poolId: firstPoolId,
      host: os.hostname(),
      pid: process.pid,
      concurrency: options.concurrency,
      tasks: Object.keys(taskList),
    },
    lease,
    intervalMs: heartbeatMs,
    staleAfterMs,
    sweepMs,
    log,
  });

  supervisor.watch();
  // A pool whose graceful shutdown failed may still hold jobs: its heartbeat row stays for the sweep to release them.
  let handBackFailed = false;
  events.on("pool:gracefulShutdown:error", () => {
    if (stopping) handBackFailed = true;
  });

  /**
   * graphile-worker's graceful shutdown (running jobs finish within the grace,
   * or are handed back) is given up on once the database has not answered for
   * SHUTDOWN_DATABASE_TIMEOUT_MS (workarounds/graphile-worker-shutdown-without-database.ts),
   * and so is removing the heartbeat: what this worker held is then released by another
   * worker's sweep once it has been silent for staleAfterMs, as for a lost worker.
   */
  const stop = () =>
    (stopping ??= (async () => {
      const runnerStopped = (async () => {
        await supervisor.replacing;
        await supervisor.runner.stop().catch(() => {}); // already stopped if it stopped by itself while we were stopping
      })();
      const databaseGone = await giveUpWhenDatabaseSilent(runnerStopped, options.databaseUrl, SHUTDOWN_DATABASE_TIMEOUT_MS);
      if (databaseGone) {
        log(
          `[worker] the database has not answered for ${SHUTDOWN_DATABASE_TIMEOUT_MS / 1000} s: gave up on graphile-worker's graceful shutdown and on removing this worker's heartbeat; ` +
            `its running jobs go back to the queue when another worker finds it silent for ${staleAfterMs / 1000} s`,
        );
      }
      await metrics?.close();
      // Removed only after a hand-back that succeeded: else the row stays for the sweep to release what the pool holds.
      const isDeregistered =
        (await heartbeat?.stop({ deregister: !databaseGone && !handBackFailed, timeoutMs: SHUTDOWN_DATABASE_TIMEOUT_MS })) ?? false;
      // After the row: a row left behind (not deregistered) is then swept at once by another worker.
      await lease.release();
      // Clients first, then the render threads: a task left running (database gone) then writes nothing on its way out.
      // Queries still under way get 5 s after a clean stop; else none.
      await db.$client.end({ timeout: isDeregistered ? 5 : 0 });
      const pgPoolEnded = pgPool.end(); // waits for the clients a given-up runner still holds: bounded
      await renderPool.close();
      if (!(await settlesWithin(pgPoolEnded, isDeregistered ? SHUTDOWN_DATABASE_TIMEOUT_MS : 1_000)))
        log("[worker] graphile-worker's connections did not close; leaving them");
    })());

  return {
    id,
    get runner() {
      return supervisor.runner;
    },
    metricsPort: metrics?.port,
    stop,
  };
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    sleep(ms, false, { ref: false }),
  ]);
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
