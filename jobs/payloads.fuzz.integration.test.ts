import { Readable } from "node:stream";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { makeWorkerUtils, type WorkerUtils } from "graphile-worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveConfiguration } from "@/db/queries/configurations";
import { getUpload, storeUpload } from "@/db/queries/uploads";
import { createTestDatabase, createTestUser, type TestDatabase } from "@/db/test/database";
import { waitFor } from "@/db/test/wait-for";
import { hostileJson, hostileRecord } from "@/lib/test/arbitraries";
import { DEFAULT_CONFIGURATION } from "@/lib/validation/configuration";
import { startWorker, type RunningWorker } from "@/worker/start-worker";
import { TASK_GROUPS, taskPayloads, type TaskName } from "./payloads";

// Fuzzed payloads for every task, added with graphile-worker's own addJob (as
// anything with database access could), against real workers: the workers keep
// running, a payload that can never be valid fails its job for good at once with
// the reason, and no person's rows change.

let test: TestDatabase;
let workers: RunningWorker[] = [];
let utils: WorkerUtils;

beforeAll(async () => {
  test = await createTestDatabase();
  workers = [
    await startWorker({ databaseUrl: test.url, concurrency: 4, renderThreads: 1, log: () => {} }),
    await startWorker({ databaseUrl: test.url, concurrency: 1, renderThreads: 1, group: "large", log: () => {} }),
  ];
  utils = await makeWorkerUtils({ connectionString: test.url });
});
afterAll(async () => {
  await utils?.release();
  for (const worker of workers) await worker.stop();
  await test?.drop();
});

/** Every person-visible row a task could write, as JSON, in a stable order. */
async function snapshotRows() {
  const tables = [
    "users",
    "configurations",
    "results",
    "blobs",
    "uploads",
    "upload_steps",
    "stored_files",
    "job_logs",
    "schedules",
    "watched_sources",
  ];
  const snapshot: Record<string, unknown> = {};
  for (const table of tables) {
    const rows = await test.db.execute<{ row: unknown }>(sql`select to_jsonb(t) as row from ${sql.identifier(table)} t order by 1`);
    snapshot[table] = rows.map((entry) => entry.row);
  }
  return snapshot;
}

type Job = {
  id: string;
  task_identifier: string;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  locked_at: Date | null;
};
const readJobs = (ids: string[]) =>
  test.db
    .execute<Job>(sql`select j.id::text, t.identifier as task_identifier, j.attempts, j.max_attempts, j.last_error, j.locked_at from graphile_worker._private_jobs j
    join graphile_worker._private_tasks t on t.id = j.task_id where j.id = any(${`{${ids.join(",")}}`}::bigint[])`);

describe("fuzzed job payloads", () => {
  it("fail for good with the reason when they can never be valid, keep the workers running, and change no rows", async () => {
    // Finished work of a person: what a stale or forged payload might name.
    const user = await createTestUser(test.db);
    const saved = await saveConfiguration(test.db, {
      ownerId: user.id,
      input: { ...DEFAULT_CONFIGURATION, width: 32, height: 32, depth: 16 },
    });
    if (!saved.ok) throw new Error("save failed");
    const upload = await storeUpload(
      test.db,
      Readable.from([Buffer.from("a,b\n1,2\n")]),
      { ownerId: user.id, name: "data.csv", declaredType: "text/csv" },
      { maxBytes: 1024 },
    );
    await waitFor(
      () =>
        test.db.execute<{ count: number }>(
          sql`select count(*)::int as count from graphile_worker.jobs where task_identifier not in ('housekeeping', 'run_schedules', 'check_sources', 'roll_up_usage')`,
        ),
      (rows) => rows[0].count === 0,
    );
    expect((await getUpload(test.db, { id: upload.id, ownerId: user.id }))?.isProcessed).toBe(true);
    const before = await snapshotRows();

    const tasks = [...TASK_GROUPS.standard, ...TASK_GROUPS.large] as TaskName[];
    const existingIds = [saved.resultId, upload.id];
    const payloadFor = fc.oneof(
      hostileJson(),
      hostileRecord(["resultId", "uploadId", "_cron"]),
      // Well-formed, naming finished work (or nothing): a re-delivery that must change nothing.
      fc.record(
        { resultId: fc.oneof(fc.constantFrom(...existingIds), fc.uuid()), uploadId: fc.oneof(fc.constantFrom(...existingIds), fc.uuid()) },
        { requiredKeys: [] },
      ),
    );
    // One batch (a dozen payloads per task), run once: fast-check prints its seed and the batch if it fails.
    const batch = fc.tuple(
      ...tasks.map((task) => fc.array(payloadFor, { minLength: 12, maxLength: 12 }).map((payloads) => ({ task, payloads }))),
    );
    await fc.assert(
      fc.asyncProperty(batch, async (perTask) => {
        const added: { id: string; task: TaskName; payload: unknown }[] = [];
        for (const { task, payloads } of perTask) {
          for (const payload of payloads) {
            const job = await utils.addJob(task, payload);
            // What the worker will be handed: the payload as Postgres stored it (undefined and null become {}).
            added.push({ id: job.id, task, payload: job.payload });
          }
        }

        // Every fuzzed job is done: completed (gone) or failed for good, none waiting to retry.
        const ids = added.map((job) => job.id);
        await waitFor(
          () => readJobs(ids),
          (jobs) => jobs.every((job) => job.locked_at === null && job.attempts >= job.max_attempts),
        );
        // Both kinds were sent, so neither half of the check below is empty.
        const validity = added.map(({ task, payload }) => taskPayloads[task].safeParse(payload).success);
        expect(validity).toContain(true);
        expect(validity).toContain(false);
        const remaining = new Map((await readJobs(ids)).map((job) => [job.id, job]));
        for (const [index, { id, task, payload }] of added.entries()) {
          const job = remaining.get(id);
          if (validity[index]) {
            expect(job, `${task} ${JSON.stringify(payload)}: ${job?.last_error}`).toBeUndefined();
          } else {
            expect(job, `${task} ${JSON.stringify(payload)}`).toMatchObject({ attempts: 1, max_attempts: 1 });
            expect(job?.last_error).toMatch(new RegExp(`^Invalid ${task} payload \\(not retried\\)`));
          }
        }
        expect(await snapshotRows()).toEqual(before);
      }),
      // Jobs, once added, cannot be taken back: no shrinking.
      { numRuns: 1, endOnFailure: true },
    );

    // The workers still work: a real render after the storm.
    const again = await saveConfiguration(test.db, {
      ownerId: user.id,
      input: { ...DEFAULT_CONFIGURATION, width: 32, height: 32, depth: 17 },
    });
    if (!again.ok) throw new Error("save failed");
    await waitFor(
      () => test.db.execute<{ status: string }>(sql`select status from results where id = ${again.resultId}`),
      (rows) => rows[0]?.status === "succeeded",
    );
  });
});
