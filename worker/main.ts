import { getPriority, setPriority } from "node:os";
import { parseArgs } from "node:util";
import { TASK_GROUPS, type TaskGroup } from "@/jobs/payloads";
import { getEnvOrExit, getWorkerEnv } from "@/lib/env";
import { startWorker } from "./start-worker";

/**
 * The worker process: `npm run worker [-- --concurrency N] [--only large]`. Runs jobs until
 * SIGINT/SIGTERM, then stops taking jobs, lets running ones finish within
 * WORKER_SHUTDOWN_GRACE_MS, hands the rest back to the queue and exits.
 */
const WORKER_NICENESS = 10;

const { values } = parseArgs({ options: { concurrency: { type: "string" }, only: { type: "string" } } });
const env = getEnvOrExit(getWorkerEnv);
const concurrency = values.concurrency ? Number(values.concurrency) : env.WORKER_CONCURRENCY;
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`--concurrency must be a positive whole number, got ${values.concurrency}`);
  process.exit(2);
}

const group = values.only ?? "standard";
if (!Object.hasOwn(TASK_GROUPS, group)) {
  console.error(`--only must be one of ${Object.keys(TASK_GROUPS).join(", ")}, got ${group}`);
  process.exit(2);
}

// Where the worker shares a machine with the web and Postgres (npm start, one small server), they come
// first: this thread (job pickup, a finished render's colouring) and the threads started after it
// (libuv's pool, where sharp encodes PNGs) run at nice 10; render threads lower themselves to 19.
try {
  setPriority(Math.max(getPriority(), WORKER_NICENESS));
} catch {
  // Not permitted: run at the priority we were given.
}

const worker = await startWorker({
  group: group as TaskGroup,
  databaseUrl: env.DATABASE_URL,
  concurrency,
  renderThreads: env.RENDER_THREADS,
  heartbeatMs: env.WORKER_HEARTBEAT_MS,
  staleAfterMs: env.WORKER_STALE_AFTER_MS,
  shutdownGraceMs: env.WORKER_SHUTDOWN_GRACE_MS,
  retentionDays: env.RESULT_RETENTION_DAYS,
  timeLimitsMs: { render: env.RENDER_TIME_LIMIT_MS, render_large: env.RENDER_TIME_LIMIT_MS },
  largeRenderPixels: env.LARGE_RENDER_PIXELS,
  metricsPort: env.WORKER_METRICS_PORT,
  allowPrivateSourceHosts: env.WATCH_ALLOW_PRIVATE_HOSTS,
});
console.log(`[worker] ${worker.id} running ${group} tasks with concurrency ${concurrency}`);
if (env.WATCH_ALLOW_PRIVATE_HOSTS)
  console.warn("[worker] WATCH_ALLOW_PRIVATE_HOSTS=true: watched sources may reach loopback and private networks");
if (worker.metricsPort !== undefined) console.log(`[worker] metrics at http://localhost:${worker.metricsPort}/metrics`);

let signalCount = 0;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    signalCount += 1;
    if (signalCount > 1) {
      console.error("[worker] second signal: exiting now; unfinished jobs retry elsewhere");
      process.exit(1);
    }
    console.log(`[worker] ${signal}: finishing running jobs, then exiting`);
    worker.stop().then(
      () => process.exit(0),
      (error) => {
        console.error("[worker] error while stopping", error);
        process.exit(1);
      },
    );
  });
}
