import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { eq, sql } from "drizzle-orm";
import type { TransactionSql } from "postgres";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { saveConfiguration } from "@/db/queries/configurations";
import { listJobLog } from "@/db/queries/job-logs";
import { acceptUpload, getUpload } from "@/db/queries/uploads";
import { results } from "@/db/schema";
import { createTestDatabase, createTestUser, type TestDatabase } from "@/db/test/database";
import { waitFor } from "@/db/test/wait-for";
import { enqueue } from "@/jobs/enqueue";
import { renderJobKey } from "@/jobs/payloads";
import { DEFAULT_CONFIGURATION, type ConfigurationInput } from "@/lib/validation/configuration";
import { startWorker, type RunningWorker, type WorkerOptions } from "./start-worker";

// What keeps a worker's slot forever, and what now ends it: a task's time limit, and lock_timeout.

let test: TestDatabase;
const workers: RunningWorker[] = [];

beforeAll(async () => {
  test = await createTestDatabase();
});
afterEach(async () => {
  for (const worker of workers.splice(0)) await worker.stop();
});
afterAll(() => test?.drop());

async function worker(options: Partial<WorkerOptions>) {
  const started = await startWorker({ databaseUrl: test.url, concurrency: 1, renderThreads: 2, log: () => {}, ...options });
  workers.push(started);
  return started;
}

// c = 0: most points never escape and cost the full depth; about half a minute on two cores.
const LONG = { re: 0, im: 0, width: 4096, height: 2048, depth: 5000 };
const SMALL = { width: 64, height: 64 };

async function save(ownerId: string, overrides: Partial<ConfigurationInput>) {
  const saved = await saveConfiguration(test.db, { ownerId, input: { ...DEFAULT_CONFIGURATION, ...overrides } });
  if (!saved.ok) throw new Error("save failed");
  return saved;
}
const readResult = async (id: string) => (await test.db.select().from(results).where(eq(results.id, id)))[0];
const jobsWhere = (condition: ReturnType<typeof sql>) =>
  test.db.execute<{ attempts: number; max_attempts: number; last_error: string | null; locked_at: string | null }>(
    sql`select attempts, max_attempts, last_error, locked_at from graphile_worker.jobs where ${condition}`,
  );
/** Another session takes a lock and holds it (an open transaction that, as far as the worker can tell, never ends) until released. */
async function holdLock(lock: (tx: TransactionSql) => Promise<unknown>) {
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let isLocked = () => {};
  const locked = new Promise<void>((resolve) => (isLocked = resolve));
  const holder = test.db.$client.begin(async (tx) => {
    await lock(tx);
    isLocked();
    await released;
  });
  await Promise.race([locked, holder]);
  return async () => {
    release();
    await holder;
  };
}
const logOf = async (resultId: string, ownerId: string) => (await listJobLog(test.db, { resultId, ownerId }))?.map((line) => line.message);

describe("a job past its time limit", () => {
  it("a render fails with the reason, its threads stop, it is not retried, and the next render runs", async () => {
    const running = await worker({ timeLimitsMs: { render: 2_000 } });
    const user = await createTestUser(test.db);
    const long = await save(user.id, LONG);

    const failed = await waitFor(
      () => readResult(long.resultId),
      (row) => row.status === "failed",
    );
    expect(failed).toMatchObject({ error: "Timed out after 2 s", message: "Failed: Timed out after 2 s", attempts: 1, imageSha256: null });
    expect(failed.progress).toBeLessThan(1);
    expect(failed.finishedAt).not.toBeNull();
    // What it computed before it stopped is accounted to its owner.
    expect(failed.cpuMs).toBeGreaterThan(0);
    expect(await logOf(long.resultId, user.id)).toEqual([
      `Attempt 1 on ${running.id}: 4096x2048, depth 5000, 2 threads`,
      "Attempt 1 failed: Timed out after 2 s",
    ]);
    // The same render would time out again: its job failed for good, with the reason, and let go.
    await waitFor(
      () => jobsWhere(sql`key = ${renderJobKey(long.configurationId)}`),
      ([job]) => job?.locked_at === null,
    );
    expect(await jobsWhere(sql`key = ${renderJobKey(long.configurationId)}`)).toEqual([
      { attempts: 1, max_attempts: 1, last_error: "Timed out after 2 s", locked_at: null },
    ]);

    // The worker runs one job at a time, and its thread pool serves renders first in, first out:
    // had the timed-out render's threads gone on, this one would wait behind it past its own limit.
    const next = await save(user.id, SMALL);
    const done = await waitFor(
      () => readResult(next.resultId),
      (row) => row.status === "succeeded" || row.status === "failed",
    );
    expect(done).toMatchObject({ status: "succeeded", workerId: running.id, error: null });
    expect(await logOf(next.resultId, user.id)).toEqual([
      `Attempt 1 on ${running.id}: 64x64, depth 256, 2 threads`,
      expect.stringMatching(/^Rendered in /),
    ]);
  });

  it("an upload step whose download stalls fails with the reason, and the download is dropped", async () => {
    // A file host that sends the first bytes and then nothing more, keeping the connection open.
    const open = new Set<string>();
    const host: Server = createServer((request, response) => {
      open.add(request.url!);
      request.socket.on("close", () => open.delete(request.url!));
      response.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": "1000000" });
      response.write(Buffer.alloc(1000));
    });
    await new Promise<void>((resolve) => host.listen(0, "127.0.0.1", resolve));
    try {
      await worker({ concurrency: 2, timeLimitsMs: { upload_checksum: 1_000, upload_type: 1_000 } });
      const user = await createTestUser(test.db);
      const key = randomUUID();
      const { id } = await acceptUpload(test.db, {
        ownerId: user.id,
        name: "stalled.bin",
        size: 1_000_000,
        storage: "uploadthing",
        storageKey: key,
        storageUrl: `http://127.0.0.1:${(host.address() as AddressInfo).port}/f/${key}`,
        declaredType: null,
      });

      const view = await waitFor(
        () => getUpload(test.db, { id, ownerId: user.id }),
        (upload) => upload?.isProcessed === true,
      );
      expect(view?.steps.map(({ step, status, message }) => ({ step, status, message }))).toEqual([
        { step: "checksum", status: "failed", message: "Timed out after 1 s" },
        { step: "type", status: "failed", message: "Timed out after 1 s" },
      ]);
      expect(view?.md5).toBeNull();
      // Not retried: both jobs failed for good with the reason.
      await waitFor(
        () => jobsWhere(sql`task_identifier like 'upload_%'`),
        (jobs) => jobs.length === 2 && jobs.every((job) => job.locked_at === null),
      );
      expect(await jobsWhere(sql`task_identifier like 'upload_%'`)).toEqual([
        { attempts: 1, max_attempts: 1, last_error: "Timed out after 1 s", locked_at: null },
        { attempts: 1, max_attempts: 1, last_error: "Timed out after 1 s", locked_at: null },
      ]);
      // The worker hung up: nothing is still downloading.
      await waitFor(
        async () => open.size,
        (size) => size === 0,
      );
    } finally {
      host.closeAllConnections();
      await new Promise((resolve) => host.close(resolve));
    }
  });
});

describe("a statement blocked on a lock", () => {
  it("fails with a lock timeout instead of waiting; the worker goes on, and the job succeeds once the lock is gone", async () => {
    const logged: string[] = [];
    await worker({ lockTimeoutMs: 300, log: (line) => logged.push(line) });
    const user = await createTestUser(test.db);
    const first = await save(user.id, SMALL);
    await waitFor(
      () => readResult(first.resultId),
      (row) => row.status === "succeeded",
    );
    // A result whose row another session holds locked (an open transaction that never ends, as far as the worker knows).
    const [blocked] = await test.db
      .insert(results)
      .values({
        configurationId: first.configurationId,
        ownerId: user.id,
        params: { ...DEFAULT_CONFIGURATION, ...SMALL, re: 0.3 },
        paramsHash: "blocked",
      })
      .returning();
    const release = await holdLock((tx) => tx`select id from results where id = ${blocked.id} for update`);
    try {
      const { jobId } = await test.db.transaction((tx) => enqueue(tx, "render", { resultId: blocked.id }));

      // The worker's claim of the row gave up: its attempt failed with Postgres's reason, to be retried.
      const [job] = await waitFor(
        () => jobsWhere(sql`id = ${jobId}`),
        ([row]) => row?.last_error !== null,
      );
      expect(job).toMatchObject({ attempts: 1, last_error: "canceling statement due to lock timeout" });
      expect(job.max_attempts).toBeGreaterThan(1);
      expect(logged).toContainEqual(
        expect.stringMatching(/Failed task \d+ \(render, .*\) with error 'canceling statement due to lock timeout'/),
      );
      expect(await readResult(blocked.id)).toMatchObject({ status: "queued", attempts: 0 });

      // Its one slot is free: someone else's render runs while the lock is still held.
      const other = await createTestUser(test.db);
      const theirs = await save(other.id, { ...SMALL, re: 0.2 });
      await waitFor(
        () => readResult(theirs.resultId),
        (row) => row.status === "succeeded",
      );
    } finally {
      await release();
    }
    // Once the lock is gone, a retry renders it.
    const done = await waitFor(
      () => readResult(blocked.id),
      (row) => row.status === "succeeded",
    );
    expect(done.error).toBeNull();
  });

  it("graphile-worker's own statement blocked on a job's row fails too: the worker replaces its runner and goes on", async () => {
    const logged: string[] = [];
    const running = await worker({ lockTimeoutMs: 300, timeLimitsMs: { render: 2_000 }, log: (line) => logged.push(line) });
    const user = await createTestUser(test.db);
    const long = await save(user.id, LONG);
    // Claimed: lock at once, not after its first progress (on a busy machine, nice-19 render threads may not finish a band within the limit).
    await waitFor(
      () => readResult(long.resultId),
      (row) => row.status === "running",
    );
    // Another session locks the running job's row: recording the job's outcome (at its time limit) has to wait for it.
    const release = await holdLock(
      (tx) => tx`select id from graphile_worker._private_jobs where key = ${renderJobKey(long.configurationId)} for update`,
    );
    try {
      // Instead of waiting, graphile-worker's statement fails and its pool gives up; the worker notices.
      await waitFor(
        async () => logged,
        (lines) => lines.some((line) => /graphile-worker's pool \S+ could not failJob/.test(line)),
      );
      expect(logged).toContainEqual(expect.stringMatching(/Failed to fail jobs .*\n.*canceling statement due to lock timeout/));
      expect(await readResult(long.resultId)).toMatchObject({ status: "failed", error: "Timed out after 2 s" });
    } finally {
      await release();
    }
    // Once the lock is gone, a new runner takes jobs: the next render runs, and nothing is left locked.
    const next = await save(user.id, SMALL);
    expect(
      await waitFor(
        () => readResult(next.resultId),
        (row) => row.status !== "queued" && row.status !== "running",
      ),
    ).toMatchObject({
      status: "succeeded",
      workerId: running.id,
    });
    expect(logged).toContainEqual(expect.stringMatching(/runner replaced/));
    await waitFor(
      () => jobsWhere(sql`locked_at is not null`),
      (jobs) => jobs.length === 0,
    );
    expect(await readResult(long.resultId)).toMatchObject({ status: "failed", error: "Timed out after 2 s" });
  });
});
