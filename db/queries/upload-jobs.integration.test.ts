import { Readable } from "node:stream";
import { eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listJobLog } from "@/db/queries/job-logs";
import { acceptUpload, deleteUpload, getUpload, reprocessUpload, storeUpload, type UploadView } from "@/db/queries/uploads";
import { results, uploads, uploadSteps, users } from "@/db/schema";
import { createTestDatabase, createTestUser, type TestDatabase } from "@/db/test/database";
import { waitFor } from "@/db/test/wait-for";
import { uploadStepJobKey } from "@/jobs/payloads";
import { makeUploadFixtures } from "@/jobs/test/upload-fixtures";
import { TIER_LIMITS } from "@/lib/tiers";
import { DEFAULT_CONFIGURATION } from "@/lib/validation/configuration";
import { startWorker } from "@/worker/start-worker";
import { saveConfiguration } from "./configurations";
import { cancelUploadStep, claimUploadStep, completeChecksum, retryFailedUploadStep } from "./upload-jobs";

let test: TestDatabase;
beforeAll(async () => {
  test = await createTestDatabase();
});
afterAll(() => test?.drop());

const store = (ownerId: string, bytes: Buffer, name: string) =>
  storeUpload(test.db, Readable.from([bytes]), { ownerId, name, declaredType: null }, { maxBytes: 1 << 20 });
const stepOf = (view: UploadView | null, step: string) => view?.steps.find((candidate) => candidate.step === step);
const jobCount = async () =>
  (await test.db.execute<{ count: number }>(sql`select count(*)::int as count from graphile_worker.jobs`))[0].count;

describe("an admin's retry and cancel of upload steps", () => {
  it("cancels a queued step (its job goes, the others run) and retries a failed one", async () => {
    const user = await createTestUser(test.db);
    const fixtures = await makeUploadFixtures();
    const { id } = await store(user.id, fixtures.truncatedJpeg.bytes, "broken.jpg");
    expect(await jobCount()).toBe(2);

    expect(await cancelUploadStep(test.db, { uploadId: id, step: "checksum" })).toBe(true);
    expect(await cancelUploadStep(test.db, { uploadId: id, step: "checksum" })).toBe(false); // already finished
    expect(await jobCount()).toBe(1);
    expect(await retryFailedUploadStep(test.db, { uploadId: id, step: "type" })).toBe(false); // queued, not failed

    const worker = await startWorker({ databaseUrl: test.url, concurrency: 2, renderThreads: 1, log: () => {} });
    try {
      const failed = await waitFor(
        () => getUpload(test.db, { id, ownerId: user.id }),
        (view) => view?.isProcessed === true,
      );
      expect(stepOf(failed, "checksum")).toMatchObject({ status: "failed", message: "Cancelled by an admin" });
      expect(failed?.md5).toBeNull();
      expect(stepOf(failed, "type")?.status).toBe("succeeded");
      expect(stepOf(failed, "thumbnail")).toMatchObject({
        status: "failed",
        message: expect.stringMatching(/^Corrupt or truncated image/),
      });

      // Retried, the checksum runs; the broken thumbnail fails again with its reason.
      expect(await retryFailedUploadStep(test.db, { uploadId: id, step: "checksum" })).toBe(true);
      expect(await retryFailedUploadStep(test.db, { uploadId: id, step: "thumbnail" })).toBe(true);
      const retried = await waitFor(
        () => getUpload(test.db, { id, ownerId: user.id }),
        (view) => view?.isProcessed === true && view.md5 !== null,
      );
      expect(stepOf(retried, "checksum")?.status).toBe("succeeded");
      expect(stepOf(retried, "thumbnail")?.status).toBe("failed");
      const log = (await listJobLog(test.db, { uploadId: id, ownerId: user.id }))!.map((line) => line.message);
      expect(log).toEqual(
        expect.arrayContaining(["Checksum: cancelled by an admin", "Checksum: retried by an admin", "Thumbnail: retried by an admin"]),
      );
    } finally {
      await worker.stop();
    }
  });
});

describe("a step finishing while its upload is deleted", () => {
  it("waits for the delete and writes nothing, instead of deadlocking with it", async () => {
    const user = await createTestUser(test.db);
    const { id } = await store(user.id, Buffer.from("soon gone"), "doomed.txt");
    const job = { uploadId: id, step: "checksum" as const, jobId: "4242" };
    const claimed = await claimUploadStep(test.db, { ...job, workerId: "test" });
    if (!claimed) throw new Error("the step was not claimed");
    const waitingOnLocks = async () =>
      (
        await test.db.execute<{ count: number }>(
          sql`select count(*)::int as count from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
        )
      )[0].count;

    // Deleting an upload, one lock at a time: its row first, then (the cascade) its steps and log lines.
    let completing: Promise<boolean> | undefined;
    await test.db.$client.begin(async (tx) => {
      await tx`select id from uploads where id = ${id} for update`;
      completing = completeChecksum(test.db, {
        uploadId: id,
        jobId: job.jobId,
        attempt: claimed.attempts,
        md5: "0".repeat(32),
        cost: { wallMs: 1, cpuMs: 1, bytesRead: 9, bytesWritten: 0 },
        log: { message: "Checksum: done" },
      });
      await waitFor(waitingOnLocks, (count) => count === 1); // the step's completion waits on the delete
      // Had the completion locked its step before the upload, this would deadlock (and one of the two fail).
      await tx`delete from upload_steps where upload_id = ${id}`;
      await tx`delete from job_logs where upload_id = ${id}`;
      await tx`delete from uploads where id = ${id}`;
    });
    expect(await completing).toBe(false);
    expect(await getUpload(test.db, { id, ownerId: user.id })).toBeNull();
  });
});

describe("fair shares: upload steps queue like renders", () => {
  const priorityOf = async (uploadId: string, step: "checksum" | "type") => {
    const [job] = await test.db.execute<{ priority: number }>(
      sql`select priority from graphile_worker.jobs where key = ${uploadStepJobKey(uploadId, step)}`,
    );
    return job.priority;
  };

  it("gives each step the tier's base plus the person's unfinished upload steps, counted up to 99", async () => {
    const free = await createTestUser(test.db);
    const pro = await createTestUser(test.db);
    await test.db.update(users).set({ tier: "pro" }).where(eq(users.id, pro.id));
    // Stored elsewhere (no bytes here): this test only looks at the queue, and deletes what it added.
    const accept = (ownerId: string, index: number) =>
      acceptUpload(test.db, {
        ownerId,
        name: `${index}.txt`,
        size: 1,
        storage: "uploadthing",
        storageKey: `${ownerId}/${index}`,
        declaredType: null,
      });
    const freeUploads = [];
    for (let index = 0; index < 60; index++) freeUploads.push(await accept(free.id, index));
    const proUpload = await accept(pro.id, 0);
    try {
      const base = TIER_LIMITS.free.basePriority;
      const freePriorities = [];
      for (const { id } of freeUploads) freePriorities.push([await priorityOf(id, "checksum"), await priorityOf(id, "type")]);
      const expected = freeUploads.map((_, index) => [base + Math.min(2 * index, 99), base + Math.min(2 * index + 1, 99)]);
      expect(freePriorities).toEqual(expected);
      // Another person's first steps, pro here, go before all of that.
      expect([await priorityOf(proUpload.id, "checksum"), await priorityOf(proUpload.id, "type")]).toEqual([0, 1]);

      // Processing again counts the person's other unfinished steps, not the upload's own.
      await test.db
        .update(uploadSteps)
        .set({ status: "succeeded" })
        .where(
          inArray(
            uploadSteps.uploadId,
            freeUploads.slice(1).map((upload) => upload.id),
          ),
        );
      expect(await reprocessUpload(test.db, { id: freeUploads[0].id, ownerId: free.id })).toBe(true);
      expect([await priorityOf(freeUploads[0].id, "checksum"), await priorityOf(freeUploads[0].id, "type")]).toEqual([base, base + 1]);
    } finally {
      for (const { id } of [...freeUploads, proUpload]) {
        const [{ ownerId }] = await test.db.select({ ownerId: uploads.ownerId }).from(uploads).where(eq(uploads.id, id));
        await deleteUpload(test.db, { id, ownerId });
      }
    }
  });

  it("runs someone's render before the rest of another person's bulk upload", async () => {
    const bulk = await createTestUser(test.db);
    const other = await createTestUser(test.db);
    const uploaded = [];
    for (let index = 0; index < 30; index++) uploaded.push(await store(bulk.id, Buffer.from(`file ${index}\n`), `${index}.txt`));
    const saved = await saveConfiguration(test.db, {
      ownerId: other.id,
      input: { ...DEFAULT_CONFIGURATION, width: 32, height: 32, depth: 32 },
    });
    if (!saved.ok) throw new Error("save failed");

    // One job at a time, so the order the jobs start in is the order the queue gives them.
    const worker = await startWorker({ databaseUrl: test.url, concurrency: 1, renderThreads: 1, log: () => {} });
    try {
      const [render] = await waitFor(
        () => test.db.select({ status: results.status, startedAt: results.startedAt }).from(results).where(eq(results.id, saved.resultId)),
        ([result]) => result?.status === "succeeded",
      );
      for (const { id } of uploaded)
        await waitFor(
          () => getUpload(test.db, { id, ownerId: bulk.id }),
          (view) => view?.isProcessed === true,
        );
      const steps = await test.db
        .select({ startedAt: uploadSteps.startedAt })
        .from(uploadSteps)
        .where(
          inArray(
            uploadSteps.uploadId,
            uploaded.map((upload) => upload.id),
          ),
        );
      expect(steps).toHaveLength(60);
      // Only the bulk upload's first step (queued first, at the same priority) started before the render.
      const startedBefore = steps.filter((step) => step.startedAt! < render.startedAt!);
      expect(startedBefore).toHaveLength(1);
    } finally {
      await worker.stop();
    }
  });
});
