import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getQueueDepth, kedaScalerQuery } from "@/db/queries/queue";
import { createTestDatabase, type TestDatabase } from "@/db/test/database";
import { enqueue } from "@/jobs/enqueue";
import { TASK_GROUPS, taskPayloads } from "@/jobs/payloads";
import { startWorker, type RunningWorker } from "./start-worker";

// The queue's depth as the metrics and KEDA see it, on a real queue: jobs added with add_job, a real
// worker's /metrics and the web's /api/metrics scraped. The worker runs only the large queue, so the
// standard jobs below stay where they are.

let test: TestDatabase;
let worker: RunningWorker;
const METRICS_TOKEN = "a-metrics-token-for-tests";

beforeAll(async () => {
  test = await createTestDatabase();
  const minuteAndAHalfAgo = new Date(Date.now() - 90_000);
  await test.db.transaction(async (tx) => {
    for (let index = 0; index < 3; index++) await enqueue(tx, "upload_checksum", { uploadId: randomUUID() });
    for (let index = 0; index < 2; index++) await enqueue(tx, "render", { resultId: randomUUID() }, { runAt: minuteAndAHalfAgo });
    // Not ready: due in an hour.
    await enqueue(tx, "render", { resultId: randomUUID() }, { runAt: new Date(Date.now() + 3_600_000) });
    // Running: locked as a worker locks the job it takes.
    const running = await enqueue(tx, "upload_type", { uploadId: randomUUID() });
    await tx.execute(
      sql`update graphile_worker._private_jobs set locked_at = now(), locked_by = 'another-worker', attempts = 1 where id = ${running.jobId}`,
    );
    // Failed for good: no attempts left.
    const failed = await enqueue(tx, "upload_thumbnail", { uploadId: randomUUID() }, { maxAttempts: 1 });
    await tx.execute(sql`update graphile_worker._private_jobs set attempts = 1, last_error = 'failed' where id = ${failed.jobId}`);
  });
  worker = await startWorker({ databaseUrl: test.url, group: "large", concurrency: 1, renderThreads: 1, metricsPort: 0, log: () => {} });
});

afterAll(async () => {
  await worker?.stop();
  await test?.drop();
});

/** `name{task="…",…} value` lines of a Prometheus text exposition, by task. */
function gauge(exposition: string, name: string): Record<string, number> {
  const values: Record<string, number> = {};
  for (const match of exposition.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, "gm"))) {
    const task = /task="([^"]+)"/.exec(match[1])?.[1];
    if (task) values[task] = Number(match[2]);
  }
  return values;
}

const everyTask = (value: number, overrides: Record<string, number>) => ({
  ...Object.fromEntries(Object.keys(taskPayloads).map((task) => [task, value])),
  ...overrides,
});
const EXPECTED_READY = everyTask(0, { upload_checksum: 3, render: 2 });
const EXPECTED_RUNNING = everyTask(0, { upload_type: 1 });

function expectQueueDepth(exposition: string) {
  expect(gauge(exposition, "longrun_queue_ready_jobs")).toEqual(EXPECTED_READY);
  expect(gauge(exposition, "longrun_queue_running_jobs")).toEqual(EXPECTED_RUNNING);
  const oldest = gauge(exposition, "longrun_queue_oldest_ready_job_age_seconds");
  expect(oldest.render).toBeGreaterThanOrEqual(90);
  expect(oldest.upload_checksum).toBeLessThan(oldest.render);
  expect(oldest.upload_type).toBe(0);
}

describe("queue depth", () => {
  it("counts ready and running jobs per task, with the oldest ready job's age", async () => {
    const depth = await getQueueDepth(test.db, Object.keys(taskPayloads));
    expect(Object.fromEntries(depth.map((row) => [row.task, row.readyJobs]))).toEqual(EXPECTED_READY);
    expect(Object.fromEntries(depth.map((row) => [row.task, row.runningJobs]))).toEqual(EXPECTED_RUNNING);
  });

  it("a worker's /metrics exports it", async () => {
    const response = await fetch(`http://127.0.0.1:${worker.metricsPort}/metrics`);
    expect(response.status).toBe(200);
    expectQueueDepth(await response.text());
  });

  it("the web's /api/metrics exports it", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { DATABASE_URL: test.url, AUTH_SECRET: "a".repeat(32), METRICS_TOKEN });
    const { db } = await import("@/db");
    try {
      const { GET } = await import("@/app/api/metrics/route");
      const response = await GET(new Request("http://localhost/api/metrics", { headers: { authorization: `Bearer ${METRICS_TOKEN}` } }), {
        params: Promise.resolve({}),
      });
      expect(response.status).toBe(200);
      expectQueueDepth(await response.text());
    } finally {
      await db.$client.end({ timeout: 5 });
      process.env = saved;
    }
  });

  it("KEDA's query for each worker group counts the same jobs: ready and running", async () => {
    const count = async (group: keyof typeof TASK_GROUPS) =>
      Number((await test.db.execute<{ count: string }>(sql.raw(kedaScalerQuery(TASK_GROUPS[group]))))[0].count);
    expect(await count("standard")).toBe(3 + 2 + 1);
    expect(await count("large")).toBe(0);
  });
});
