import { performance } from "node:perf_hooks";
import { eq, sql } from "drizzle-orm";
import { run, type Runner } from "graphile-worker";
import pg from "pg";
import { createDatabase } from "@/db/client";
import { saveConfiguration } from "@/db/queries/configurations";
import { configurations, results, users } from "@/db/schema";
import { DEFAULT_CONFIGURATION } from "@/lib/validation/configuration";
import { startWorker } from "@/worker/start-worker";
import { randomBytes } from "node:crypto";
import { chromium } from "@playwright/test";
import { systemChromiumLaunchOptions } from "@/e2e/system-chromium";
import { buildWebIfNeeded, startStandaloneWeb } from "@/scripts/lib/build";
import { freePort, stopService, waitForHttp } from "@/scripts/lib/processes";
import { isSmoke } from "@/scripts/lib/smoke";
import { createMigratedDatabase, startThrowawayPostgres } from "@/scripts/lib/throwaway-database";

/**
 * `npm run bench:save`: what saving costs and how soon the job starts.
 * 1. The save transaction (configuration + result + add_job) against the
 *    obvious alternative, a bare configuration insert with no job.
 * 2. Enqueue → job start through the app's save and worker, against a bare
 *    graphile-worker add_job of a no-op task, in the same run.
 * 3. In Chromium against the built web: click Save → the server action's
 *    response, against a fetch of the status route from the same page.
 * --smoke: 5 samples of each and 3 clicks.
 */
const N = Number(process.env.BENCH_N ?? (isSmoke ? 5 : 300));
const CLICKS = isSmoke ? 3 : 40;

const embedded = await startThrowawayPostgres();
const url = await createMigratedDatabase(embedded.url(), "bench");
const db = createDatabase(url, { max: 4, applicationName: "bench" });
const [user] = await db.insert(users).values({ email: "bench@example.test", passwordHash: "x" }).returning();

function summary(label: string, samples: number[]) {
  if (samples.length === 0) {
    console.log(`${label.padEnd(52)} no samples`);
    return Number.NaN;
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  console.log(`${label.padEnd(52)} p50 ${at(0.5).toFixed(2)} ms  p95 ${at(0.95).toFixed(2)} ms  p99 ${at(0.99).toFixed(2)} ms`);
  return at(0.5);
}

// Tiny renders: the question here is the queue's latency, not the renderer's speed.
const tiny = { ...DEFAULT_CONFIGURATION, width: 16, height: 16, depth: 1 };

async function timeSaves() {
  const bare: number[] = [];
  const save: number[] = [];
  for (let i = 0; i < N; i++) {
    let t0 = performance.now();
    await db.insert(configurations).values({ ownerId: user.id, ...tiny, name: `bare ${i}` });
    bare.push(performance.now() - t0);
    t0 = performance.now();
    const saved = await saveConfiguration(db, { ownerId: user.id, input: { ...tiny, name: `save ${i}` } });
    save.push(performance.now() - t0);
    // No worker runs here: cancel each render (untimed) so the tier's limit of unfinished renders is never reached.
    if (!saved.ok) throw new Error(`save refused: ${saved.code}`);
    await db.update(results).set({ status: "cancelled" }).where(eq(results.id, saved.resultId));
  }
  const bareP50 = summary("bare configuration insert (no job)", bare);
  const saveP50 = summary("saveConfiguration (rows + add_job, one transaction)", save);
  console.log(`  ratio save/bare p50: ${(saveP50 / bareP50).toFixed(2)}x\n`);
}

async function timeEnqueueToStart() {
  await db.execute(sql`delete from graphile_worker._private_jobs`);
  // The app: save → our worker (graphile-worker runner + render task).
  const worker = await startWorker({ databaseUrl: url, concurrency: 1, log: () => {} });
  const appLatency = await measureStarts(worker.runner, async () => {
    const saved = await saveConfiguration(db, { ownerId: user.id, input: { ...tiny, re: Math.random() - 0.5, name: "latency" } });
    if (!saved.ok) throw new Error(`save refused: ${saved.code}`);
  });
  await worker.stop();

  // graphile-worker alone: add_job of a no-op task, same pool settings.
  const pool = new pg.Pool({ connectionString: url, max: 3 });
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  const runner = await run({
    pgPool: pool,
    concurrency: 1,
    noHandleSignals: true,
    parsedCronItems: [],
    taskList: { noop: async () => {} },
    logger: new (await import("graphile-worker")).Logger(() => () => {}),
    preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
  });
  const bareLatency = await measureStarts(runner, async () => {
    await db.execute(sql`select graphile_worker.add_job('noop', '{}'::json)`);
  });
  await runner.stop();
  await pool.end();

  const bareP50 = summary("enqueue → start, graphile-worker alone (add_job)", bareLatency);
  const appP50 = summary("enqueue → start, app (saveConfiguration → render task)", appLatency);
  console.log(`  ratio app/alone p50: ${(appP50 / bareP50).toFixed(2)}x`);
}

/** Adds one job at a time and times it until the runner's job:start event. */
async function measureStarts(runner: Runner, add: () => Promise<void>) {
  const samples: number[] = [];
  for (let i = 0; i < Math.min(N, 200); i++) {
    const started = new Promise<number>((resolve) => runner.events.once("job:start", () => resolve(performance.now())));
    const completed = new Promise((resolve) => runner.events.once("job:complete", resolve));
    // From the start of the enqueueing transaction: a job may start before the commit's ack returns.
    const t0 = performance.now();
    await add();
    samples.push((await started) - t0);
    await completed; // one at a time: the worker is idle when the next job is added
  }
  return samples;
}

async function timeClickToActionReturn() {
  buildWebIfNeeded();
  const port = await freePort();
  const web = startStandaloneWeb({
    port,
    hostname: "127.0.0.1",
    env: { ...process.env, DATABASE_URL: url, AUTH_SECRET: randomBytes(32).toString("base64url") },
  });
  let browser: Awaited<ReturnType<typeof chromium.launch>> | undefined;
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/sign-in`);
    browser = await chromium.launch(systemChromiumLaunchOptions());
    const page = await browser.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(`${base}/sign-up`);
    await page.getByLabel("Email").fill(`bench-${Date.now()}@example.test`);
    await page.getByLabel("Password").fill("bench password");
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.waitForURL(/configurations$/);
    await page.goto(`${base}/configurations/new`);
    // Exact: the configuration page also has the schedule form's "Save schedule".
    const saveButton = page.getByRole("button", { name: "Save", exact: true });
    await page.getByLabel("Width").fill("16");
    await page.getByLabel("Height").fill("16");
    await saveButton.click();
    await page.waitForURL(/configurations\/[0-9a-f-]{36}$/);
    const id = page.url().split("/").pop();

    // The browser's own Resource Timing: each server action is a fetch POST to the
    // page's URL; the page's status polls are fetches of the status route.
    await page.evaluate("performance.setResourceTimingBufferSize(100000)");
    for (let i = 0; i < CLICKS; i++) {
      await page.getByLabel("Real part").fill(String(-0.8 + (i + 1) / 1000));
      await saveButton.click();
      await saveButton.waitFor();
      await page.waitForTimeout(150);
    }
    // A string, not a function: tsx's name-keeping helpers do not exist in the page.
    const { clicks, fetches } = await page.evaluate<{ clicks: number[]; fetches: number[] }>(`(() => {
      const entries = performance.getEntriesByType("resource").filter((entry) => entry.initiatorType === "fetch");
      const pathOf = (entry) => new URL(entry.name).pathname;
      return {
        // The server action POSTs to the page's URL; the refresh after it is a GET with ?_rsc=.
      clicks: entries.filter((entry) => pathOf(entry) === "/configurations/${id}" && !entry.name.includes("_rsc=")).map((entry) => entry.duration),
        fetches: entries.filter((entry) => pathOf(entry).endsWith("/status")).map((entry) => entry.duration),
      };
    })()`);
    const fetchP50 = summary(`status route poll, in the browser (${fetches.length})`, fetches);
    const clickP50 = summary(`Save's server action, in the browser (${clicks.length})`, clicks);
    console.log(`  ratio save click/status fetch p50: ${(clickP50 / fetchP50).toFixed(2)}x`);
  } finally {
    await browser?.close();
    await stopService(web);
  }
}

// Postgres runs detached (pg_ctl): stop it however the bench ends.
process.on("SIGINT", () => void embedded.stop().finally(() => process.exit(1)));
process.on("SIGTERM", () => void embedded.stop().finally(() => process.exit(1)));
try {
  console.log(`Save and enqueue latency, ${N} samples each (embedded Postgres 18, this machine)\n`);
  await timeSaves();
  await timeEnqueueToStart();
  console.log("");
  await timeClickToActionReturn();
} finally {
  await db.$client.end();
  await embedded.stop();
}
