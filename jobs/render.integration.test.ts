import { eq, sql } from "drizzle-orm";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getConfigurationStatus, saveConfiguration } from "@/db/queries/configurations";
import { listJobLog } from "@/db/queries/job-logs";
import { getMonthlyUsage, listMonthlyUsageByUser } from "@/db/queries/usage";
import { getDashboardOverview } from "@/db/queries/dashboard";
import { cancelResult, retryFailedResult } from "@/db/queries/results";
import { blobs, results } from "@/db/schema";
import { createTestDatabase, createTestUser, type TestDatabase } from "@/db/test/database";
import { waitFor } from "@/db/test/wait-for";
import { DEFAULT_CONFIGURATION, type ConfigurationInput } from "@/lib/validation/configuration";
import { startWorker, type RunningWorker } from "@/worker/start-worker";
import { enqueue } from "./enqueue";

let test: TestDatabase;
let worker: RunningWorker;

beforeAll(async () => {
  test = await createTestDatabase();
  worker = await startWorker({ databaseUrl: test.url, concurrency: 2, renderThreads: 2, metricsPort: 0, log: () => {} });
});
afterAll(async () => {
  await worker?.stop();
  await test?.drop();
});

const input = (overrides: Partial<ConfigurationInput> = {}): ConfigurationInput => ({ ...DEFAULT_CONFIGURATION, ...overrides });
// c = 0: most points never escape and cost the full depth; about half a minute on two cores.
const LONG = { re: 0, im: 0, width: 4096, height: 2048, depth: 5000 };

const readResult = async (id: string) => (await test.db.select().from(results).where(eq(results.id, id)))[0];
const pendingJobs = async () =>
  Number((await test.db.execute<{ count: number }>(sql`select count(*)::int as count from graphile_worker.jobs`))[0].count);

async function save(ownerId: string, overrides: Partial<ConfigurationInput>, configurationId?: string) {
  const saved = await saveConfiguration(test.db, { ownerId, configurationId, input: input(overrides) });
  if (!saved.ok) throw new Error("save failed");
  return saved;
}

describe("render task through a real worker", () => {
  it("renders, stores the PNG and a thumbnail, and records timings and the worker", async () => {
    const user = await createTestUser(test.db);
    const saved = await save(user.id, { width: 320, height: 200 });
    const result = await waitFor(
      () => readResult(saved.resultId),
      (row) => row.status === "succeeded",
    );

    expect(result).toMatchObject({ progress: 1, attempts: 1, workerId: worker.id, error: null });
    expect(result.wallMs).toBeGreaterThan(0);
    expect(result.cpuMs).toBeGreaterThanOrEqual(0);
    expect(result.startedAt!.getTime()).toBeGreaterThanOrEqual(result.queuedAt.getTime());
    const [image] = await test.db.select().from(blobs).where(eq(blobs.sha256, result.imageSha256!));
    expect(await sharp(image.data).metadata()).toMatchObject({ format: "png", width: 320, height: 200 });
    const [thumbnail] = await test.db.select().from(blobs).where(eq(blobs.sha256, result.thumbnailSha256!));
    expect(await sharp(thumbnail.data).metadata()).toMatchObject({ format: "webp", width: 256, height: 160 });

    const status = await getConfigurationStatus(test.db, { id: saved.configurationId, ownerId: user.id });
    expect(status?.shown).toMatchObject({ id: saved.resultId, isStale: false });

    // Its log says who rendered it and what it cost; only its owner can read it.
    const log = await listJobLog(test.db, { resultId: saved.resultId, ownerId: user.id });
    expect(log?.map((line) => line.message)).toEqual([
      `Attempt 1 on ${worker.id}: 320x200, depth 256, 2 threads`,
      expect.stringMatching(/^Rendered in \d+ ms \(CPU \d+ ms, \d+ iterations\), PNG \d+ bytes$/),
    ]);
    const stranger = await createTestUser(test.db);
    expect(await listJobLog(test.db, { resultId: saved.resultId, ownerId: stranger.id })).toBeNull();

    // What it cost is accounted to its owner: the PNG and the thumbnail were written.
    const usage = await getMonthlyUsage(test.db, { ownerId: user.id });
    expect(usage.byKind.render).toEqual({
      jobs: 1,
      attempts: 1,
      wallMs: result.wallMs,
      cpuMs: result.cpuMs,
      bytesRead: 0,
      bytesWritten: image.size + thumbnail.size,
    });
    expect(usage.perDay).toHaveLength(1);

    // The worker's Prometheus endpoint counted the job.
    const metrics = await (await fetch(`http://127.0.0.1:${worker.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^longrun_worker_jobs_total\{task="render",outcome="success",worker="[^"]+"\} [1-9]\d*$/m);
    expect(metrics).toContain("longrun_worker_job_seconds_bucket");
    const health = await fetch(`http://127.0.0.1:${worker.metricsPort}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, heartbeat: "fresh", database: "ok" });
    expect((await getMonthlyUsage(test.db, { ownerId: stranger.id })).byKind.render.jobs).toBe(0);
    expect((await listMonthlyUsageByUser(test.db)).find((row) => row.ownerId === user.id)).toMatchObject({ email: user.email, renders: 1 });
  });

  it("a re-delivered job leaves the same single result", async () => {
    const user = await createTestUser(test.db);
    const saved = await save(user.id, { width: 64, height: 64 });
    const done = await waitFor(
      () => readResult(saved.resultId),
      (row) => row.status === "succeeded",
    );
    await test.db.transaction((tx) => enqueue(tx, "render", { resultId: saved.resultId }));
    await waitFor(pendingJobs, (count) => count === 0);
    const again = await readResult(saved.resultId);
    expect(again).toEqual(done);
    expect(await test.db.select().from(results).where(eq(results.configurationId, saved.configurationId))).toHaveLength(1);
  });

  it("stops a running render that a newer save superseded, and renders the newer one", async () => {
    const user = await createTestUser(test.db);
    const first = await save(user.id, { name: "Picture", width: 128, height: 128 });
    await waitFor(
      () => readResult(first.resultId),
      (row) => row.status === "succeeded",
    );

    const long = await save(user.id, LONG, first.configurationId);
    await waitFor(
      () => readResult(long.resultId),
      (row) => row.status === "running" && row.progress > 0,
    );
    // While it computes, the last picture is what shows, marked stale.
    const during = await getConfigurationStatus(test.db, { id: first.configurationId, ownerId: user.id });
    expect(during?.shown).toMatchObject({ id: first.resultId, isStale: true });
    expect(during?.current).toMatchObject({ id: long.resultId, status: "running" });

    const newer = await save(user.id, { width: 96, height: 96 }, first.configurationId);
    const startedAt = Date.now();
    await waitFor(
      () => readResult(newer.resultId),
      (row) => row.status === "succeeded",
    );
    const superseded = await readResult(long.resultId);
    expect(superseded.status).toBe("superseded");
    expect(superseded.imageSha256).toBeNull();
    // The worker let go of the superseded render well before it could have finished.
    await waitFor(pendingJobs, (count) => count === 0, 5_000);
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    const log = await listJobLog(test.db, { resultId: long.resultId, ownerId: user.id });
    expect(log?.map((line) => line.message)).toEqual([
      expect.stringMatching(/^Attempt 1 on .+: 4096x2048, depth 5000, \d+ threads$/),
      "Stopped early: cancelled or superseded",
    ]);
  });

  it("cancels a running render: the worker stops and the previous picture stays", async () => {
    const user = await createTestUser(test.db);
    const first = await save(user.id, { width: 64, height: 64 });
    await waitFor(
      () => readResult(first.resultId),
      (row) => row.status === "succeeded",
    );
    const long = await save(user.id, LONG, first.configurationId);
    await waitFor(
      () => readResult(long.resultId),
      (row) => row.status === "running" && row.progress > 0,
    );

    expect(await cancelResult(test.db, { resultId: long.resultId, ownerId: user.id })).toEqual({ ok: true });
    await waitFor(pendingJobs, (count) => count === 0, 5_000);
    const cancelled = await readResult(long.resultId);
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.progress).toBeLessThan(1);
    // What it computed before it stopped is accounted to its owner.
    await waitFor(
      () => readResult(long.resultId),
      (row) => row.cpuMs !== null,
    );
    const { cpuMs } = await readResult(long.resultId);
    expect(cpuMs).toBeGreaterThan(0);
    const usage = await getMonthlyUsage(test.db, { ownerId: user.id });
    expect(usage.byKind.render).toMatchObject({ jobs: 2, cpuMs: (await readResult(first.resultId)).cpuMs! + cpuMs! });
    const status = await getConfigurationStatus(test.db, { id: first.configurationId, ownerId: user.id });
    expect(status?.shown).toMatchObject({ id: first.resultId, isStale: true });
  });

  it("leaves large renders to the workers of the large queue", async () => {
    const user = await createTestUser(test.db);
    const saved = await saveConfiguration(test.db, {
      ownerId: user.id,
      input: input({ width: 96, height: 96 }),
      largeRenderPixels: 64 * 64,
    });
    if (!saved.ok) throw new Error("save failed");
    // The standard worker of this file polls every 2 s at most; give it two chances to (wrongly) take it.
    await new Promise((resolve) => setTimeout(resolve, 4_500));
    expect((await readResult(saved.resultId)).status).toBe("queued");

    const large = await startWorker({ databaseUrl: test.url, concurrency: 1, group: "large", log: () => {} });
    try {
      const done = await waitFor(
        () => readResult(saved.resultId),
        (row) => row.status === "succeeded",
      );
      expect(done.workerId).toBe(large.id);
    } finally {
      await large.stop();
    }
  });

  it("housekeeping purges old superseded results and unreferenced blobs, and keeps the rest", async () => {
    const user = await createTestUser(test.db);
    const first = await save(user.id, { width: 64, height: 64 });
    await waitFor(
      () => readResult(first.resultId),
      (row) => row.status === "succeeded",
    );
    const second = await save(user.id, { width: 80, height: 80 }, first.configurationId);
    await waitFor(
      () => readResult(second.resultId),
      (row) => row.status === "succeeded",
    );

    const blob = async (name: string, age: string) => {
      const sha256 = name.padEnd(64, "0");
      await test.db.insert(blobs).values({ sha256, contentType: "image/png", size: 1, data: Buffer.from("x") });
      await test.db.execute(sql`update blobs set created_at = now() - ${age}::interval where sha256 = ${sha256}`);
      return sha256;
    };
    const oldImage = await blob("aa", "10 days");
    const oldOrphan = await blob("bb", "2 hours");
    const freshOrphan = await blob("cc", "1 minute");
    const [old] = await test.db
      .insert(results)
      .values({
        configurationId: first.configurationId,
        ownerId: user.id,
        params: { ...DEFAULT_CONFIGURATION },
        paramsHash: "old",
        status: "superseded",
        imageSha256: oldImage,
      })
      .returning();
    await test.db.execute(sql`update results set finished_at = now() - interval '8 days' where id = ${old.id}`);

    await test.db.transaction((tx) => enqueue(tx, "housekeeping", {}));
    await waitFor(pendingJobs, (count) => count === 0);

    expect(await readResult(old.id)).toBeUndefined();
    const remaining = (await test.db.select({ sha256: blobs.sha256 }).from(blobs)).map((row) => row.sha256);
    expect(remaining).not.toContain(oldImage);
    expect(remaining).not.toContain(oldOrphan);
    expect(remaining).toContain(freshOrphan);
    for (const id of [first.resultId, second.resultId]) {
      const kept = await readResult(id);
      expect(kept.status).toBe("succeeded");
      expect(remaining).toContain(kept.imageSha256);
    }
  });

  it("records a readable error and fails the result after its last attempt", async () => {
    const user = await createTestUser(test.db);
    const saved = await save(user.id, { width: 64, height: 64 });
    await waitFor(
      () => readResult(saved.resultId),
      (row) => row.status === "succeeded",
    );
    // A result whose stored params cannot be rendered (bypassing validation), with a single attempt.
    const [broken] = await test.db
      .insert(results)
      .values({
        configurationId: saved.configurationId,
        ownerId: user.id,
        params: { ...DEFAULT_CONFIGURATION, width: 0 },
        paramsHash: "broken",
      })
      .returning();
    await test.db.transaction((tx) => enqueue(tx, "render", { resultId: broken.id }, { maxAttempts: 1 }));
    const failed = await waitFor(
      () => readResult(broken.id),
      (row) => row.status === "failed",
    );
    expect(failed.error).toMatch(/width/);
    expect(failed.message).toMatch(/^Failed: /);
    expect(failed.finishedAt).not.toBeNull();

    // The admin dashboard lists it; a retry is refused: it is not its configuration's current result.
    const overview = await getDashboardOverview(test.db, { staleAfterMs: 15_000 });
    expect(overview.failures.map((failure) => failure.id)).toContain(broken.id);
    expect(overview.workers.map((row) => row.id)).toContain(worker.id);
    expect(overview.lastHour).toHaveLength(12);
    expect(await retryFailedResult(test.db, { resultId: broken.id })).toMatchObject({ ok: false });
  });
});
