import { createReadStream, readFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { eq, sql, TransactionRollbackError } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storageUsage, users } from "@/db/schema";
import { createTestDatabase, createTestUser, type TestDatabase } from "@/db/test/database";
import { countOrphanStoredFiles, expectWithinQuota, leaveStorageRoom, storedTotals } from "@/db/test/storage-quota";
import { datasetPath, findDataset } from "@/lib/datasets";
import { TIER_LIMITS } from "@/lib/tiers";
import { getStorageUsage, StorageQuotaError, type StorageUsageView } from "./storage-usage";
import { deleteUpload, storeUpload } from "./uploads";

// The storage quota where every door meets it: storeUpload (the dataset and
// shared-file copies, and each door's storeThenAccept) and acceptUpload, against a real Postgres.

let test: TestDatabase;
beforeAll(async () => {
  test = await createTestDatabase();
});
afterAll(async () => {
  await test?.drop();
});

const UPLOAD_MAX_BYTES = 16 * 1024 * 1024;
const KiB = 1024;

async function* bytes(buffer: Buffer): AsyncGenerator<Uint8Array> {
  yield buffer;
}

const store = (ownerId: string, name: string, content: AsyncIterable<Uint8Array>, declaredBytes?: number) =>
  storeUpload(test.db, content, { ownerId, name, declaredType: null }, { maxBytes: UPLOAD_MAX_BYTES, declaredBytes });

/** Settles every promise; the outcomes in order. */
const settle = <T>(promises: Promise<T>[]) => Promise.allSettled(promises);
const refusals = (outcomes: PromiseSettledResult<unknown>[]) =>
  outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected").map((outcome) => outcome.reason as unknown);

describe("storage quotas", () => {
  it("a burst of concurrent uploads stops exactly at the quota in bytes: never past it, nothing stored uncounted", async () => {
    const user = await createTestUser(test.db);
    const left = await leaveStorageRoom(test.db, user.id, { bytes: 5 * KiB, files: 100 });
    const outcomes = await settle(Array.from({ length: 20 }, (_, i) => store(user.id, `burst-${i}.bin`, bytes(randomBytes(KiB)))));

    const refused = refusals(outcomes);
    expect(refused).toHaveLength(15);
    for (const reason of refused) expect(reason).toBeInstanceOf(StorageQuotaError);
    expect(await expectWithinQuota(test.db, left)).toEqual({ bytes: 5 * KiB, files: 5 });
    expect(await getStorageUsage(test.db, { ownerId: user.id })).toMatchObject({ bytes: left.maxBytes });
  });

  it("a burst stops exactly at the quota in files", async () => {
    const user = await createTestUser(test.db);
    const left = await leaveStorageRoom(test.db, user.id, { bytes: 1024 * KiB, files: 3 });
    const outcomes = await settle(Array.from({ length: 10 }, (_, i) => store(user.id, `file-${i}.txt`, bytes(Buffer.from(`file ${i}\n`)))));

    expect(refusals(outcomes)).toHaveLength(7);
    expect(await expectWithinQuota(test.db, left)).toMatchObject({ files: 3 });
  });

  it("refuses a declared size that cannot fit before reading a byte, and says the limit and the usage", async () => {
    const user = await createTestUser(test.db);
    const left = await leaveStorageRoom(test.db, user.id, { bytes: 10 * KiB, files: 10 });
    let isRead = false;
    const source = (async function* () {
      isRead = true;
      yield randomBytes(20 * KiB);
    })();

    const refused = await store(user.id, "large.bin", source, 20 * KiB).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StorageQuotaError);
    expect((refused as Error).message).toBe(
      "Storage quota reached: a free account keeps up to 1.00 GiB in 1,000 files, and 1024.0 MiB in 990 files are stored; " +
        "a file of 20.0 KiB would not fit. Delete files to make room.",
    );
    expect(isRead).toBe(false);
    await expectWithinQuota(test.db, left);
  });

  it("stops a body of undeclared size where the quota would, not at the upload size limit", async () => {
    const user = await createTestUser(test.db);
    const left = await leaveStorageRoom(test.db, user.id, { bytes: 10 * KiB, files: 10 });
    let sent = 0;
    const endless = (async function* () {
      for (;;) {
        sent += 64 * KiB;
        yield Buffer.alloc(64 * KiB, 7);
      }
    })();

    const refused = await store(user.id, "endless.bin", endless).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StorageQuotaError);
    expect((refused as Error).message).toContain("a file of more than 10.0 KiB would not fit");
    // Read up to one store chunk (1 MiB) past the room, far short of the 16 MiB the size limit would have let in.
    expect(sent).toBeLessThanOrEqual(1024 * KiB + 64 * KiB);
    await expectWithinQuota(test.db, left);
  });

  it("counts a copied sample dataset, and refuses it when it does not fit", async () => {
    const dataset = findDataset("measurements")!;
    const { size } = await stat(datasetPath(dataset));
    const user = await createTestUser(test.db);
    const left = await leaveStorageRoom(test.db, user.id, { bytes: size, files: 2 });
    const copy = () =>
      storeUpload(
        test.db,
        createReadStream(datasetPath(dataset)),
        { ownerId: user.id, name: dataset.file, declaredType: dataset.type, dataset: dataset.id },
        { maxBytes: UPLOAD_MAX_BYTES, declaredBytes: size },
      );

    await copy();
    await expect(copy()).rejects.toBeInstanceOf(StorageQuotaError);
    expect(await expectWithinQuota(test.db, left)).toEqual({ bytes: size, files: 1 });
  });

  it("gives a deleted file's room back, and a full account may always delete", async () => {
    const user = await createTestUser(test.db);
    const left = await leaveStorageRoom(test.db, user.id, { bytes: 2 * KiB, files: 10 });
    const first = await store(user.id, "first.bin", bytes(randomBytes(2 * KiB)));
    await expect(store(user.id, "second.bin", bytes(randomBytes(KiB)))).rejects.toBeInstanceOf(StorageQuotaError);

    expect(await deleteUpload(test.db, { id: first.id, ownerId: user.id })).not.toBeNull();
    // Deleting again (someone else's delete got there first) gives nothing back twice.
    expect(await deleteUpload(test.db, { id: first.id, ownerId: user.id })).toBeNull();
    await store(user.id, "second.bin", bytes(randomBytes(KiB)));
    expect(await expectWithinQuota(test.db, left)).toEqual({ bytes: KiB, files: 1 });
  });

  it("keeps a pro account's larger quota, and an account over its quota (moved to free) may only delete", async () => {
    const user = await createTestUser(test.db);
    await test.db.update(users).set({ tier: "pro" }).where(eq(users.id, user.id));
    expect(await getStorageUsage(test.db, { ownerId: user.id })).toEqual({
      tier: "pro",
      bytes: 0,
      files: 0,
      maxBytes: TIER_LIMITS.pro.maxStorageBytes,
      maxFiles: TIER_LIMITS.pro.maxStorageFiles,
    });
    await leaveStorageRoom(test.db, user.id, { bytes: 10 * 1024 ** 3, files: 10 }); // 40 GiB stored
    const kept = await store(user.id, "kept.bin", bytes(randomBytes(KiB)));

    await test.db.update(users).set({ tier: "free" }).where(eq(users.id, user.id));
    await expect(store(user.id, "more.bin", bytes(Buffer.from("x")))).rejects.toBeInstanceOf(StorageQuotaError);
    const before = await getStorageUsage(test.db, { ownerId: user.id });
    expect(await deleteUpload(test.db, { id: kept.id, ownerId: user.id })).not.toBeNull();
    expect(await getStorageUsage(test.db, { ownerId: user.id })).toMatchObject({ bytes: before.bytes - KiB, files: before.files - 1 });
  });

  it("the migration's backfill counts existing files as the live counters do", async () => {
    const user = await createTestUser(test.db);
    for (const size of [0, 10, 3000]) await store(user.id, `backfilled-${size}.bin`, bytes(randomBytes(size)));
    const live = await getStorageUsage(test.db, { ownerId: user.id });

    // The migration's own statement, run again over an empty table, in a transaction rolled back afterwards.
    const migration = readFileSync("db/migrations/0014_storage_usage.sql", "utf8");
    const backfill = migration.slice(migration.indexOf('INSERT INTO "storage_usage"'));
    let backfilled: StorageUsageView | undefined;
    await test.db
      .transaction(async (tx) => {
        await tx.delete(storageUsage);
        await tx.execute(sql.raw(backfill));
        backfilled = await getStorageUsage(tx, { ownerId: user.id });
        tx.rollback();
      })
      .catch((error: unknown) => {
        if (!(error instanceof TransactionRollbackError)) throw error;
      });
    expect(backfilled).toEqual(live);
    expect(live).toMatchObject({ bytes: 3010, files: 3 });
    expect(await storedTotals(test.db, user.id)).toEqual({ bytes: 3010, files: 3 });
    expect(await countOrphanStoredFiles(test.db)).toBe(0);
  });
});
