import { performance } from "node:perf_hooks";
import { sql } from "drizzle-orm";
import { run } from "graphile-worker";
import pg from "pg";
import { createDatabase } from "@/db/client";
import { createRunSchedulesTask } from "@/jobs/schedules";
import { startWorker } from "@/worker/start-worker";
import { isSmoke } from "@/scripts/lib/smoke";
import { createMigratedDatabase, startThrowawayPostgres } from "@/scripts/lib/throwaway-database";

/**
 * `npm run bench:jobs`: trivial jobs per second, end to end (already queued →
 * all done), through the app's worker (startWorker: its pools, settings,
 * event listeners, heartbeat and task list) against graphile-worker's own
 * `run()` with the same task and concurrency, in the same run. The task is the
 * app's real run_schedules with nothing due: one indexed query.
 */
const N = Number(process.env.BENCH_JOBS ?? (isSmoke ? 50 : 5000));
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const ROUNDS = isSmoke ? 1 : 3;

const embedded = await startThrowawayPostgres();
const url = await createMigratedDatabase(embedded.url(), "bench");
const db = createDatabase(url, { max: 4, applicationName: "bench" });

async function queueJobs() {
  await db.execute(sql`select graphile_worker.add_job('run_schedules', '{}'::json) from generate_series(1, ${N})`);
}

async function waitUntilEmpty() {
  for (;;) {
    const [row] = await db.execute<{ count: number }>(sql`select count(*)::int as count from graphile_worker.jobs`);
    if (row.count === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function timeApp() {
  await queueJobs();
  const t0 = performance.now();
  const worker = await startWorker({ databaseUrl: url, concurrency: CONCURRENCY, renderThreads: 1, log: () => {} });
  await waitUntilEmpty();
  const jobsPerSecond = N / ((performance.now() - t0) / 1000);
  await worker.stop();
  return jobsPerSecond;
}

async function timeGraphileAlone() {
  await queueJobs();
  const pool = new pg.Pool({ connectionString: url, max: CONCURRENCY + 2 });
  // graphile-worker asks for both handlers; nothing restarts here.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  const t0 = performance.now();
  const runner = await run({
    pgPool: pool,
    concurrency: CONCURRENCY,
    noHandleSignals: true,
    pollInterval: 1000,
    taskList: { run_schedules: createRunSchedulesTask({ db }) },
    logger: new (await import("graphile-worker")).Logger(() => () => {}),
  });
  await waitUntilEmpty();
  const jobsPerSecond = N / ((performance.now() - t0) / 1000);
  await runner.stop();
  await pool.end();
  return jobsPerSecond;
}

try {
  const app: number[] = [];
  const alone: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    alone.push(await timeGraphileAlone());
    app.push(await timeApp());
  }
  const best = (values: number[]) => Math.max(...values);
  console.log(`${N} trivial jobs (run_schedules, nothing due), concurrency ${CONCURRENCY}, best of ${ROUNDS}`);
  console.log(`  graphile-worker run() alone   ${best(alone).toFixed(0)} jobs/s   (rounds: ${alone.map((v) => v.toFixed(0)).join(", ")})`);
  console.log(`  the app's worker              ${best(app).toFixed(0)} jobs/s   (rounds: ${app.map((v) => v.toFixed(0)).join(", ")})`);
  console.log(`  app / alone: ${(best(app) / best(alone)).toFixed(2)}x`);
} finally {
  await db.$client.end();
  await embedded.stop();
}
