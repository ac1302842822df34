import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { and, eq, sql } from "drizzle-orm";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listJobLog } from "@/db/queries/job-logs";
import { getDashboardOverview } from "@/db/queries/dashboard";
import { getOwnedImage } from "@/db/queries/results";
import { getMonthlyUsage } from "@/db/queries/usage";
import { claimUploadStep, completeChecksum, completeTypeDetection, failUploadStep, isStaleStepAttempt } from "@/db/queries/upload-jobs";
import { acceptUpload, deleteUpload, getUpload, queueSteps, reprocessUpload, storeUpload, type UploadView } from "@/db/queries/uploads";
import { recoverLostWorkers } from "@/db/queries/workers";
import { blobs, storedFileChunks, storedFiles, uploads, uploadSteps, workerHeartbeats } from "@/db/schema";
import { CHUNK_BYTES, FileTooLargeError, readUploadBytes, writeStoredFile } from "@/db/storage";
import { createDatabase } from "@/db/client";
import { createTestDatabase, createTestUser, type TestDatabase } from "@/db/test/database";
import { waitFor } from "@/db/test/wait-for";
import { waitForProcessedUpload } from "./test/processed-upload";
import { startWorker, type RunningWorker } from "@/worker/start-worker";
import { FIXTURE_NAMES, makeUploadFixtures, type UploadFixtures } from "./test/upload-fixtures";

let test: TestDatabase;
let worker: RunningWorker;
let fixtures: UploadFixtures;

beforeAll(async () => {
  test = await createTestDatabase();
  worker = await startWorker({ databaseUrl: test.url, concurrency: 4, renderThreads: 1, log: () => {} });
  fixtures = await makeUploadFixtures();
});
afterAll(async () => {
  await worker?.stop();
  await test?.drop();
});

const md5 = (bytes: Buffer) => createHash("md5").update(bytes).digest("hex");

/** What the upload route does: stream into the local store, then accept in one transaction. */
async function upload(ownerId: string, bytes: Buffer, name = "file.bin", declaredType: string | null = null) {
  return storeUpload(test.db, Readable.from(pieces(bytes)), { ownerId, name, declaredType }, { maxBytes: 100 * 1024 * 1024 });
}

/** Bytes as a client sends them: uneven pieces that do not line up with storage chunks. */
function* pieces(bytes: Buffer, size = 64 * 1024 + 7) {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

const processed = (ownerId: string, id: string) => waitForProcessedUpload(test.db, ownerId, id);

const stepOf = (view: UploadView, step: string) => view.steps.find((candidate) => candidate.step === step);

describe("upload processing through a real worker", () => {
  it("checksums, types by content and thumbnails every kind of file", async () => {
    const user = await createTestUser(test.db);
    const accepted = await Promise.all(
      FIXTURE_NAMES.map(async (name) => ({
        name,
        ...(await upload(user.id, fixtures[name].bytes, fixtures[name].name, fixtures[name].declaredType)),
      })),
    );
    for (const { name, id } of accepted) {
      const fixture = fixtures[name];
      const view = await processed(user.id, id);
      expect(view.md5, name).toBe(md5(fixture.bytes));
      expect(view.detectedType, name).toBe(fixture.expectedType);
      expect(view.size, name).toBe(fixture.bytes.length);
      expect(stepOf(view, "checksum")?.status, name).toBe("succeeded");
      expect(stepOf(view, "type")?.status, name).toBe("succeeded");
      if (!fixture.expectedType.startsWith("image/")) {
        // Not an image: no thumbnail step at all, rather than a failed one.
        expect(stepOf(view, "thumbnail"), name).toBeUndefined();
        expect(view.thumbnailSha256, name).toBeNull();
      }
    }

    const byName = Object.fromEntries(
      await Promise.all(accepted.map(async ({ name, id }) => [name, await processed(user.id, id)] as const)),
    );
    for (const name of ["png", "jpegExif", "gif", "webp", "bmp", "ico"] as const) {
      const view: UploadView = byName[name];
      expect(stepOf(view, "thumbnail")?.status, name).toBe("succeeded");
      expect({ width: view.imageWidth, height: view.imageHeight }, name).toEqual(fixtures[name].image);
      const thumbnail = await getOwnedImage(test.db, { sha256: view.thumbnailSha256!, ownerId: user.id });
      const metadata = await sharp(thumbnail.data).metadata();
      expect(metadata.format).toBe("webp");
      const { width, height } = fixtures[name].image!;
      const scale = Math.min(1, 256 / Math.max(width, height));
      // EXIF orientation applied: the 400x200 JPEG turned upright is 128 wide and 256 high.
      expect({ width: metadata.width, height: metadata.height }, name).toEqual({
        width: Math.round(width * scale),
        height: Math.round(height * scale),
      });
    }

    const truncated: UploadView = byName.truncatedJpeg;
    expect(stepOf(truncated, "thumbnail")).toMatchObject({
      status: "failed",
      message: expect.stringMatching(/^Corrupt or truncated image: ./),
    });
    const bomb: UploadView = byName.bomb;
    expect(stepOf(bomb, "thumbnail")).toMatchObject({ status: "failed", message: expect.stringContaining("30000x30000 (900 megapixels)") });
    expect(bomb.md5).toBe(md5(fixtures.bomb.bytes));

    // A page claiming to be a PNG is what its bytes say, and the claim is kept for the flag.
    expect(byName.scriptAsPng).toMatchObject({ declaredType: "image/png", detectedType: "text/html" });
    expect(byName.empty).toMatchObject({ size: 0, md5: "d41d8cd98f00b204e9800998ecf8427e", detectedType: "inode/x-empty" });

    // The admin dashboard lists the failed thumbnail steps with their reason.
    const overview = await getDashboardOverview(test.db, { staleAfterMs: 15_000 });
    expect(overview.uploadSteps).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          uploadId: bomb.id,
          step: "thumbnail",
          status: "failed",
          email: user.email,
          message: expect.stringContaining("30000x30000"),
        }),
        expect.objectContaining({ uploadId: truncated.id, step: "thumbnail", status: "failed" }),
      ]),
    );

    // Every finished step is accounted to its owner: bytes read by each, the thumbnails written.
    const usage = await getMonthlyUsage(test.db, { ownerId: user.id });
    const steps = Object.values(byName).flatMap((view) => view.steps);
    expect(usage.byKind.upload.jobs).toBe(steps.length);
    expect(usage.byKind.upload.bytesRead).toBeGreaterThanOrEqual(FIXTURE_NAMES.reduce((sum, name) => sum + fixtures[name].bytes.length, 0));
    expect(usage.byKind.render.jobs).toBe(0);

    // Each step says what it did in the upload's log.
    const log = await listJobLog(test.db, { uploadId: bomb.id, ownerId: user.id });
    expect(log?.map((line) => line.message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Checksum: md5 [0-9a-f]{32} over/),
        "Type: from content: image/png; thumbnail queued",
        expect.stringMatching(/^Thumbnail: failed: Image is 30000x30000/),
      ]),
    );
  });

  it("streams a multi-chunk file through the store byte for byte and checksums it", async () => {
    const user = await createTestUser(test.db);
    const bytes = randomBytes(3 * CHUNK_BYTES + 12_345);
    const { id } = await upload(user.id, bytes, "random.bin");
    const [row] = await test.db.select().from(uploads).where(eq(uploads.id, id));
    const chunks = await test.db
      .select({ seq: storedFileChunks.seq })
      .from(storedFileChunks)
      .where(eq(storedFileChunks.fileKey, row.storageKey));
    expect(chunks).toHaveLength(4);
    const readBack: Buffer[] = [];
    for await (const chunk of readUploadBytes(test.db, row)) readBack.push(chunk);
    expect(Buffer.concat(readBack).equals(bytes)).toBe(true);
    const view = await processed(user.id, id);
    expect(view).toMatchObject({ md5: md5(bytes), detectedType: "application/octet-stream" });
  });

  it("reads files of every size back byte for byte, and leaves its connection usable after each read", async () => {
    // One connection, so a read that left it unusable makes the next query wait forever.
    const single = createDatabase(test.url, { max: 1, applicationName: "longrun-test-single" });
    const nextQuery = () =>
      Promise.race([
        single.$client`select 1 as one`.then(() => "answered"),
        new Promise((resolve) => setTimeout(() => resolve("no answer: the connection hangs"), 10_000)),
      ]);
    try {
      // 20 kB: a COPY whose one row filled postgres.js's stream buffer as it ended paused the socket (hung before).
      // 4 chunks: exactly one batch, then an empty one. 9 chunks + 1 byte: prefetching across batches.
      for (const size of [0, 100, 20_000, CHUNK_BYTES, 4 * CHUNK_BYTES, 9 * CHUNK_BYTES + 1]) {
        const bytes = randomBytes(size);
        const stored = await writeStoredFile(single, Readable.from([bytes]), { maxBytes: 16 * CHUNK_BYTES });
        const file = { storage: "local" as const, storageKey: stored.key, storageUrl: null };
        const readBack: Buffer[] = [];
        for await (const chunk of readUploadBytes(single, file)) readBack.push(Buffer.from(chunk));
        expect(Buffer.concat(readBack).equals(bytes), `${size} bytes`).toBe(true);
        expect(await nextQuery(), `after reading ${size} bytes`).toBe("answered");
        // Readers that stop early: after the first chunk (type detection), and after the second, when the
        // next batch is already prefetched and nobody will await it.
        for (const chunksTaken of [1, 2]) {
          let taken = 0;
          for await (const chunk of readUploadBytes(single, file)) if (chunk && ++taken === chunksTaken) break;
          expect(await nextQuery(), `after stopping at chunk ${chunksTaken} of ${size} bytes`).toBe("answered");
        }
      }
    } finally {
      await single.$client.end({ timeout: 5 });
    }
  });

  it("refuses a file past the size limit while streaming and keeps nothing", async () => {
    const before = await test.db.select({ count: sql<number>`count(*)::int` }).from(storedFiles);
    // An endless client: the store must stop reading soon after the limit, not buffer it all.
    let bytesSent = 0;
    async function* endless() {
      const piece = randomBytes(64 * 1024);
      for (;;) {
        bytesSent += piece.length;
        yield piece;
      }
    }
    await expect(writeStoredFile(test.db, endless(), { maxBytes: 2 * CHUNK_BYTES })).rejects.toBeInstanceOf(FileTooLargeError);
    expect(bytesSent).toBeLessThanOrEqual(3 * CHUNK_BYTES);
    const after = await test.db.select({ count: sql<number>`count(*)::int` }).from(storedFiles);
    expect(after[0].count).toBe(before[0].count);
  });

  it("adds nothing when the accepting transaction fails, and a repeated acceptance finds the same upload", async () => {
    const user = await createTestUser(test.db);
    const stored = await writeStoredFile(test.db, Readable.from([Buffer.from("hello")]), { maxBytes: 1024 });
    const upload = {
      ownerId: user.id,
      name: "a.txt",
      size: stored.size,
      storage: "local" as const,
      storageKey: stored.key,
      declaredType: null,
    };
    const countJobs = async () =>
      (await test.db.execute<{ count: number }>(sql`select count(*)::int as count from graphile_worker.jobs`))[0].count;
    const jobsBefore = await countJobs();
    await expect(
      test.db.transaction(async (tx) => {
        await acceptUpload(tx, upload);
        throw new Error("rolled back on purpose");
      }),
    ).rejects.toThrow("rolled back on purpose");
    expect(await test.db.select().from(uploads).where(eq(uploads.ownerId, user.id))).toHaveLength(0);
    expect(await countJobs()).toBe(jobsBefore);

    const first = await acceptUpload(test.db, upload);
    const again = await acceptUpload(test.db, upload);
    expect(again.id).toBe(first.id);
    expect(await test.db.select().from(uploads).where(eq(uploads.ownerId, user.id))).toHaveLength(1);
    expect(await test.db.select().from(uploadSteps).where(eq(uploadSteps.uploadId, first.id))).toHaveLength(2); // checksum and type, once
    await processed(user.id, first.id);
  });

  it("re-runs processing on demand and deletes a file with its bytes; only for its owner", async () => {
    const owner = await createTestUser(test.db);
    const stranger = await createTestUser(test.db);
    const { id } = await upload(owner.id, fixtures.png.bytes, "a.png", "image/png");
    const first = await processed(owner.id, id);

    expect(await getUpload(test.db, { id, ownerId: stranger.id })).toBeNull();
    expect(await reprocessUpload(test.db, { id, ownerId: stranger.id })).toBe(false);
    expect(await deleteUpload(test.db, { id, ownerId: stranger.id })).toBeNull();

    expect(await reprocessUpload(test.db, { id, ownerId: owner.id })).toBe(true);
    const again = await processed(owner.id, id);
    expect(again).toMatchObject({ md5: first.md5, detectedType: "image/png", thumbnailSha256: first.thumbnailSha256 });
    const log = await listJobLog(test.db, { uploadId: id, ownerId: owner.id });
    expect(log?.filter((line) => line.message.startsWith("Checksum: md5"))).toHaveLength(2);

    const [row] = await test.db.select().from(uploads).where(eq(uploads.id, id));
    expect(await deleteUpload(test.db, { id, ownerId: owner.id })).toMatchObject({ storage: "local" });
    expect(await getUpload(test.db, { id, ownerId: owner.id })).toBeNull();
    expect(await test.db.select().from(storedFiles).where(eq(storedFiles.key, row.storageKey))).toHaveLength(0);
    // The thumbnail is no longer served to anyone (housekeeping deletes the unreferenced blob later).
    expect(await getOwnedImage(test.db, { sha256: first.thumbnailSha256!, ownerId: owner.id })).toBeNull();
    expect(await test.db.select({ sha256: blobs.sha256 }).from(blobs).where(eq(blobs.sha256, first.thumbnailSha256!))).toHaveLength(1);
  });

  it("a step that fails after its upload was deleted ends its job: no failed job is left behind", async () => {
    // Found by webdav/concurrency.integration.test.ts under load (a job left over after every step had finished):
    // a file deleted while its checksum read it. The read came back short, the step's failure found no step to
    // write, and the job failed all the same; a running job whose key the delete removed then stays in
    // graphile-worker's table, failed for good. Played here: a checksum that fails (the upload says one byte
    // more than is stored) waits to record its failure (the upload's row locked) while the upload is deleted.
    const user = await createTestUser(test.db);
    const stored = await writeStoredFile(test.db, Readable.from([Buffer.from("one byte short")]), { maxBytes: 1024 });
    const [row] = await test.db
      .insert(uploads)
      .values({
        ownerId: user.id,
        name: "deleted.txt",
        size: stored.size + 1,
        storage: "local",
        storageKey: stored.key,
        declaredType: null,
      })
      .returning();
    const uploadJobs = sql`select count(*)::int as count from graphile_worker.jobs where task_identifier in ('upload_checksum', 'upload_type')`;
    await test.db.transaction(async (tx) => {
      // Locked as the steps lock it before writing their outcome, and only then queued.
      await tx.select({ id: uploads.id }).from(uploads).where(eq(uploads.id, row.id)).for("no key update");
      await queueSteps(test.db, row.id, ["checksum", "type"]);
      await waitFor(
        () =>
          test.db.execute<{ count: number }>(
            sql`select count(distinct l.pid)::int as count from pg_locks l join pg_stat_activity a on a.pid = l.pid where a.datname = current_database() and not l.granted`,
          ),
        ([waiting]) => waiting.count === 2,
      );
      expect(await deleteUpload(tx, { id: row.id, ownerId: user.id })).toMatchObject({ storage: "local" });
    });
    await waitFor(
      () => test.db.execute<{ count: number }>(sql`${uploadJobs} and locked_at is not null`),
      ([locked]) => locked.count === 0,
    );
    expect((await test.db.execute<{ count: number }>(uploadJobs))[0].count).toBe(0);
  });

  it("keeps a re-run's outcome when the job it replaced finishes late, and re-queues the steps of a lost worker", async () => {
    const user = await createTestUser(test.db);
    const bytes = Buffer.from("late results must not win");
    const stored = await writeStoredFile(test.db, Readable.from([bytes]), { maxBytes: 1024 });
    // A step with no job yet, so the test plays the job that held it before a re-run.
    const [row] = await test.db
      .insert(uploads)
      .values({ ownerId: user.id, name: "late.txt", size: bytes.length, storage: "local", storageKey: stored.key, declaredType: null })
      .returning();
    await test.db.insert(uploadSteps).values({ uploadId: row.id, step: "checksum" });
    const oldJob = { uploadId: row.id, step: "checksum" as const, jobId: "old-job", attempt: 1 };
    expect(await claimUploadStep(test.db, { ...oldJob, workerId: "test" })).toMatchObject({ attempts: 1 });

    // The person asks for processing again (what queueSteps does, minus a job the worker would take),
    // and the new job claims the step while the replaced one still runs.
    await test.db.update(uploadSteps).set({ status: "queued", jobId: null }).where(eq(uploadSteps.uploadId, row.id));
    const newJob = { ...oldJob, jobId: "new-job", attempt: 2 };
    expect(await claimUploadStep(test.db, { ...newJob, workerId: "test" })).toMatchObject({ attempts: 2 });
    // The replaced job's outcome, late, changes nothing; the new job's is kept.
    const cost = { wallMs: 1, cpuMs: 1, bytesRead: 0, bytesWritten: 0 };
    expect(await completeChecksum(test.db, { ...oldJob, md5: "0".repeat(32), cost, log: { message: "late" } })).toBe(false);
    expect(await failUploadStep(test.db, { ...oldJob, reason: "late", isFinal: false, cost, log: { message: "late" } })).toBe(false);
    expect(await completeChecksum(test.db, { ...newJob, md5: md5(bytes), cost, log: { message: "on time" } })).toBe(true);
    expect(await getUpload(test.db, { id: row.id, ownerId: user.id })).toMatchObject({
      md5: md5(bytes),
      steps: [{ step: "checksum", status: "succeeded" }],
    });

    // A worker that stopped beating while it held a step: the step goes back to the queue, said so.
    await test.db.insert(uploadSteps).values({ uploadId: row.id, step: "type", status: "running", workerId: "gone:1:abc", jobId: "held" });
    await test.db.insert(workerHeartbeats).values({
      id: "gone:1:abc",
      poolId: "pool-gone",
      host: "gone",
      pid: 1,
      concurrency: 1,
      tasks: ["upload_type"],
      lastSeenAt: sql`now() - interval '1 hour'`,
    });
    await recoverLostWorkers(test.db, { staleAfterMs: 15_000 });
    const [step] = await test.db
      .select()
      .from(uploadSteps)
      .where(and(eq(uploadSteps.uploadId, row.id), eq(uploadSteps.step, "type")));
    expect(step).toMatchObject({ status: "queued", message: "Retrying after a worker was lost" });
    const log = await listJobLog(test.db, { uploadId: row.id, ownerId: user.id });
    expect(log?.at(-1)?.message).toBe("type: worker gone:1:abc was lost; retrying");

    // The same job, delivered again to a survivor, is a new attempt; the lost worker's attempt (it may come back:
    // a stopped process continued) is stale, and its late outcome is refused.
    const lostAttempt = { uploadId: row.id, step: "type" as const, jobId: "held", attempt: 0 };
    expect(await claimUploadStep(test.db, { ...lostAttempt, workerId: "survivor" })).toMatchObject({ attempts: 1 });
    const late = { ...lostAttempt, detectedType: "text/plain", cost, log: { message: "late" } };
    expect(await completeTypeDetection(test.db, late)).toBe(false);
    expect(await isStaleStepAttempt(test.db, lostAttempt)).toBe(true);
    expect(await completeTypeDetection(test.db, { ...late, attempt: 1 })).toBe(true);
  });
});
