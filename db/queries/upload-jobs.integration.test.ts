import { Readable } from "node:stream";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listJobLog } from "@/db/queries/job-logs";
import { getUpload, storeUpload, type UploadView } from "@/db/queries/uploads";
import { createTestDatabase, createTestUser, type TestDatabase } from "@/db/test/database";
import { waitFor } from "@/db/test/wait-for";
import { makeUploadFixtures } from "@/jobs/test/upload-fixtures";
import { startWorker } from "@/worker/start-worker";
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
    expect(claimed).not.toBeNull();
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
        attempt: claimed!.attempts,
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
