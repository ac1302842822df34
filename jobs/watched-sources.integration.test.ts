import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listJobLog } from "@/db/queries/job-logs";
import { deleteUpload, getUploadDownload, listSharedFiles, listUploads, reprocessUpload } from "@/db/queries/uploads";
import {
  addWatchedSource,
  checkDueSources,
  listWatchedSources,
  removeWatchedSource,
  WATCHED_SOURCES_PER_PERSON,
} from "@/db/queries/watched-sources";
import { storedFiles, watchedSources } from "@/db/schema";
import { createTestDatabase, createTestUser, type TestDatabase } from "@/db/test/database";
import { expectWithinQuota, leaveStorageRoom } from "@/db/test/storage-quota";
import { waitFor } from "@/db/test/wait-for";
import { waitForProcessedUpload } from "./test/processed-upload";
import { startWorker, type RunningWorker } from "@/worker/start-worker";
import { enqueue } from "./enqueue";

/** What the local server answers for a path. */
type Served = { body: Buffer; etag?: string; contentType?: string; isChunked?: boolean } | { status: number } | { redirectTo: string };

let test: TestDatabase;
let server: http.Server;
let base: string;
const served = new Map<string, Served>();
/** Every request the server saw, with the validators it was sent. */
const requests: { path: string; ifNoneMatch?: string }[] = [];

beforeAll(async () => {
  test = await createTestDatabase();
  server = http.createServer((request, response) => {
    const path = request.url ?? "/";
    requests.push({ path, ...(request.headers["if-none-match"] ? { ifNoneMatch: request.headers["if-none-match"] } : {}) });
    const answer = served.get(path);
    if (!answer) return response.writeHead(404).end("not found");
    if ("status" in answer) return response.writeHead(answer.status).end();
    if ("redirectTo" in answer) return response.writeHead(302, { Location: answer.redirectTo }).end();
    if (answer.etag && request.headers["if-none-match"] === answer.etag) return response.writeHead(304, { ETag: answer.etag }).end();
    const headers: http.OutgoingHttpHeaders = { "Content-Type": answer.contentType ?? "application/octet-stream" };
    if (answer.etag) headers.ETag = answer.etag;
    if (!answer.isChunked) headers["Content-Length"] = answer.body.length;
    response.writeHead(200, headers);
    // Without Content-Length, in pieces: only the streaming check can stop it.
    for (let offset = 0; offset < answer.body.length; offset += 16 * 1024) response.write(answer.body.subarray(offset, offset + 16 * 1024));
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await test?.drop();
});

const SOURCE_MAX_BYTES = 64 * 1024;
const md5 = (bytes: Buffer) => createHash("md5").update(bytes).digest("hex");
const sourceRow = (id: string) =>
  test.db
    .select()
    .from(watchedSources)
    .where(eq(watchedSources.id, id))
    .then(([row]) => row);
const storedFileCount = () =>
  test.db
    .select({ count: sql<number>`count(*)::int` })
    .from(storedFiles)
    .then(([row]) => row.count);
const makeDue = (id: string) =>
  test.db
    .update(watchedSources)
    .set({ nextCheckAt: sql`now() - interval '1 second'` })
    .where(eq(watchedSources.id, id));
const processed = (ownerId: string, id: string) => waitForProcessedUpload(test.db, ownerId, id);

async function watch(ownerId: string, path: string) {
  const added = await addWatchedSource(test.db, { ownerId, url: `${base}${path}`, intervalMinutes: 60 });
  if (!added.ok) throw new Error(`could not add ${path}: ${added.code}`);
  return added.source.id;
}

describe("watched sources through a real worker", () => {
  let worker: RunningWorker;
  beforeAll(async () => {
    worker = await startWorker({
      databaseUrl: test.url,
      concurrency: 2,
      renderThreads: 1,
      log: () => {},
      allowPrivateSourceHosts: true, // the test server is on 127.0.0.1
      sourceMaxBytes: SOURCE_MAX_BYTES,
    });
  });
  afterAll(async () => {
    await worker?.stop();
  });

  /** What the crontab does every minute, without waiting for the minute; resolves once the source has been checked again. */
  async function checkNow(id: string) {
    const before = (await sourceRow(id)).lastCheckedAt?.getTime() ?? 0;
    await makeDue(id);
    await enqueue(test.db, "check_sources", {});
    return waitFor(
      () => sourceRow(id),
      (row) => (row.lastCheckedAt?.getTime() ?? 0) > before,
    );
  }

  it("stores a new version as a processed upload, sends the ETag back (304: Unchanged) and stores the next version", async () => {
    const owner = await createTestUser(test.db);
    const firstBytes = Buffer.from("city,population\nParis,2102650\n");
    served.set("/data/report.csv", { body: firstBytes, etag: '"v1"', contentType: "text/csv; charset=utf-8" });
    const id = await watch(owner.id, "/data/report.csv");

    let source = await checkNow(id);
    expect(source).toMatchObject({ lastStatus: "New version stored", versions: 1, etag: '"v1"' });
    expect(source.nextCheckAt.getTime() - Date.now()).toBeGreaterThan(59 * 60_000); // its own interval, an hour
    const first = await processed(owner.id, source.lastUploadId!);
    expect(first).toMatchObject({
      name: "report.csv",
      size: firstBytes.length,
      md5: md5(firstBytes),
      declaredType: "text/csv",
      detectedType: "text/csv",
    });
    const log = await listJobLog(test.db, { uploadId: first.id, ownerId: owner.id });
    expect(log?.map((line) => line.message)).toContain(`Version 1 of watched source ${base}/data/report.csv`);

    requests.length = 0;
    source = await checkNow(id);
    expect(requests).toEqual([{ path: "/data/report.csv", ifNoneMatch: '"v1"' }]);
    expect(source).toMatchObject({ lastStatus: "Unchanged", versions: 1, lastUploadId: first.id });
    expect(await listUploads(test.db, { ownerId: owner.id })).toHaveLength(1);

    const nextBytes = Buffer.from("city,population\nParis,2102650\nLyon,522250\n");
    served.set("/data/report.csv", { body: nextBytes, etag: '"v2"', contentType: "text/csv" });
    source = await checkNow(id);
    expect(source).toMatchObject({ lastStatus: "New version stored", versions: 2, etag: '"v2"' });
    expect(source.lastUploadId).not.toBe(first.id);
    expect(await processed(owner.id, source.lastUploadId!)).toMatchObject({ name: "report.csv", md5: md5(nextBytes) });
    expect(await listUploads(test.db, { ownerId: owner.id })).toHaveLength(2);
  });

  it("an admin's source for everyone stores shared files: everyone sees and downloads them, nobody else changes them", async () => {
    const admin = await createTestUser(test.db);
    const someone = await createTestUser(test.db);
    const bytes = Buffer.from("station,temperature\nOslo,-3\n");
    served.set("/shared/weather.csv", { body: bytes, contentType: "text/csv" });
    const added = await addWatchedSource(test.db, {
      ownerId: admin.id,
      url: `${base}/shared/weather.csv`,
      intervalMinutes: 60,
      isShared: true,
    });
    if (!added.ok) throw new Error("not added");
    expect(added.source.isShared).toBe(true);

    const source = await checkNow(added.source.id);
    const stored = await processed(admin.id, source.lastUploadId!);
    expect(await listSharedFiles(test.db)).toEqual([
      { id: stored.id, name: "weather.csv", size: bytes.length, detectedType: "text/csv", md5: md5(bytes), createdAt: stored.createdAt },
    ]);
    // Anyone may download it; it stays the admin's: not in anyone else's files, and nobody else deletes or reprocesses it.
    expect(await getUploadDownload(test.db, { id: stored.id, ownerId: someone.id })).toMatchObject({ name: "weather.csv", isShared: true });
    expect(await listUploads(test.db, { ownerId: someone.id })).toEqual([]);
    expect(await deleteUpload(test.db, { id: stored.id, ownerId: someone.id })).toBeNull();
    expect(await reprocessUpload(test.db, { id: stored.id, ownerId: someone.id })).toBe(false);

    // A person's own source stays theirs.
    const own = await addWatchedSource(test.db, { ownerId: someone.id, url: `${base}/shared/weather.csv`, intervalMinutes: 60 });
    if (!own.ok) throw new Error("not added");
    const ownVersion = (await checkNow(own.source.id)).lastUploadId!;
    expect(await getUploadDownload(test.db, { id: ownVersion, ownerId: admin.id })).toBeNull();
    expect((await listSharedFiles(test.db)).map((file) => file.id)).toEqual([stored.id]);
  });

  it("finds the same bytes unchanged when the server sends no validators, and keeps no second copy", async () => {
    const owner = await createTestUser(test.db);
    served.set("/plain", { body: Buffer.from("no etag, no last-modified") });
    const id = await watch(owner.id, "/plain");
    expect(await checkNow(id)).toMatchObject({ lastStatus: "New version stored", versions: 1, etag: null });
    const filesBefore = await storedFileCount();
    expect(await checkNow(id)).toMatchObject({ lastStatus: "Unchanged", versions: 1 });
    expect(await storedFileCount()).toBe(filesBefore);
    expect(await listUploads(test.db, { ownerId: owner.id })).toHaveLength(1);
  });

  it("follows a redirect, and says why a check failed: an HTTP error, a redirect loop", async () => {
    const owner = await createTestUser(test.db);
    served.set("/moved", { redirectTo: "/files/target.txt" });
    served.set("/files/target.txt", { body: Buffer.from("found after a redirect") });
    served.set("/loop", { redirectTo: "/loop" });
    const moved = await checkNow(await watch(owner.id, "/moved"));
    expect(moved).toMatchObject({ lastStatus: "New version stored", versions: 1 });
    expect(await processed(owner.id, moved.lastUploadId!)).toMatchObject({
      name: "moved",
      md5: md5(Buffer.from("found after a redirect")),
    });

    expect(await checkNow(await watch(owner.id, "/missing.csv"))).toMatchObject({
      lastStatus: "Failed: HTTP 404",
      versions: 0,
      lastUploadId: null,
    });
    requests.length = 0;
    expect(await checkNow(await watch(owner.id, "/loop"))).toMatchObject({ lastStatus: "Failed: more than 5 redirects", versions: 0 });
    expect(requests).toHaveLength(6);
    expect(await listUploads(test.db, { ownerId: owner.id })).toHaveLength(1);
  });

  it("refuses a version past the size limit, from Content-Length or while streaming, and keeps nothing", async () => {
    const owner = await createTestUser(test.db);
    const tooLarge = Buffer.alloc(3 * SOURCE_MAX_BYTES, "x");
    served.set("/declared.bin", { body: tooLarge });
    served.set("/streamed.bin", { body: tooLarge, isChunked: true });
    const filesBefore = await storedFileCount();
    for (const path of ["/declared.bin", "/streamed.bin"]) {
      expect(await checkNow(await watch(owner.id, path)), path).toMatchObject({
        lastStatus: "Failed: larger than 64.0 KiB",
        versions: 0,
        lastSha256: null,
      });
    }
    expect(await storedFileCount()).toBe(filesBefore);
    expect(await listUploads(test.db, { ownerId: owner.id })).toHaveLength(0);
  });

  it("stores no version past the owner's storage quota, and fetches nothing once no file fits", async () => {
    const owner = await createTestUser(test.db);
    served.set("/quota/big.csv", { body: Buffer.alloc(2048, "b"), contentType: "text/csv" });
    served.set("/quota/small.csv", { body: Buffer.alloc(1000, "s"), contentType: "text/csv" });
    const left = await leaveStorageRoom(test.db, owner.id, { bytes: 1024, files: 1 });
    const big = await watch(owner.id, "/quota/big.csv");

    expect(await checkNow(big)).toMatchObject({
      lastStatus: expect.stringMatching(/^Failed: Storage quota reached: .* a file of 2.0 KiB would not fit/) as unknown,
      versions: 0,
      lastSha256: null,
    });
    // Watched only now: a check runs every due source, and this one must not be due before.
    const small = await watch(owner.id, "/quota/small.csv");
    expect((await checkNow(small)).lastStatus).toBe("New version stored");
    // The last file the quota allows is stored: the next check does not even fetch.
    requests.length = 0;
    expect((await checkNow(big)).lastStatus).toMatch(/^Failed: Storage quota reached: .* another file would not fit/);
    expect(requests).toEqual([]);
    expect(await expectWithinQuota(test.db, left)).toEqual({ bytes: 1000, files: 1 });
  });
});

// No worker from here on: the checks run in the test, with their own options.
describe("checking sources, and who may change them", () => {
  it("refuses a private address when private hosts are not allowed, without a request", async () => {
    const owner = await createTestUser(test.db);
    served.set("/secret", { body: Buffer.from("internal only") });
    const id = await watch(owner.id, "/secret");
    requests.length = 0;
    expect(await checkDueSources(test.db, { maxBytes: SOURCE_MAX_BYTES, allowPrivateHosts: false })).toEqual({
      checked: 1,
      newVersions: 0,
    });
    expect(await sourceRow(id)).toMatchObject({
      lastStatus: "Failed: 127.0.0.1 is a private or local address; only public hosts are fetched",
      versions: 0,
    });
    expect(requests).toEqual([]);
  });

  it("checks the host of every redirect: a public address sending the worker to a private one gets nowhere", async () => {
    const owner = await createTestUser(test.db);
    const { source } = (await addWatchedSource(test.db, {
      ownerId: owner.id,
      url: "http://93.184.216.34/feed.xml",
      intervalMinutes: 5,
    })) as { source: { id: string } };
    // Stands in for the public host (no network here); anything else goes out for real, to our server.
    const fetchImpl: typeof fetch = async (input, init) =>
      (input instanceof Request ? input.url : String(input)).startsWith("http://93.184.216.34/")
        ? new Response(null, { status: 302, headers: { Location: `${base}/secret` } })
        : fetch(input, init);
    requests.length = 0;
    await checkDueSources(test.db, { maxBytes: SOURCE_MAX_BYTES, allowPrivateHosts: false, fetchImpl });
    expect(await sourceRow(source.id)).toMatchObject({
      lastStatus: "Failed: 127.0.0.1 is a private or local address; only public hosts are fetched",
    });
    expect(requests).toEqual([]);
  });

  it("keeps nothing from a check that finishes after its source was removed", async () => {
    const owner = await createTestUser(test.db);
    const { source } = (await addWatchedSource(test.db, {
      ownerId: owner.id,
      url: "http://93.184.216.34/gone.txt",
      intervalMinutes: 5,
    })) as { source: { id: string } };
    const filesBefore = await storedFileCount();
    const fetchImpl: typeof fetch = async () => {
      await removeWatchedSource(test.db, { id: source.id, ownerId: owner.id }); // "Stop watching" while the bytes travel
      return new Response("bytes nobody wants any more");
    };
    expect(await checkDueSources(test.db, { maxBytes: SOURCE_MAX_BYTES, allowPrivateHosts: false, fetchImpl })).toEqual({
      checked: 1,
      newVersions: 0,
    });
    expect(await storedFileCount()).toBe(filesBefore);
    expect(await listUploads(test.db, { ownerId: owner.id })).toHaveLength(0);
  });

  it("lists and removes only the owner's sources; someone else's id is like a missing one", async () => {
    const owner = await createTestUser(test.db);
    const stranger = await createTestUser(test.db);
    const id = await watch(owner.id, "/data/report.csv");
    await test.db
      .update(watchedSources)
      .set({ nextCheckAt: sql`now() + interval '1 hour'` })
      .where(eq(watchedSources.id, id));
    expect(await listWatchedSources(test.db, { ownerId: stranger.id })).toEqual([]);
    expect(await removeWatchedSource(test.db, { id, ownerId: stranger.id })).toBe(false);
    expect(await removeWatchedSource(test.db, { id: "00000000-0000-4000-8000-000000000000", ownerId: stranger.id })).toBe(false);
    expect((await listWatchedSources(test.db, { ownerId: owner.id })).map((source) => source.id)).toEqual([id]);
    expect(await removeWatchedSource(test.db, { id, ownerId: owner.id })).toBe(true);
    expect(await listWatchedSources(test.db, { ownerId: owner.id })).toEqual([]);
  });

  it(`allows ${WATCHED_SOURCES_PER_PERSON} sources per person, each URL once, even when added at the same time`, async () => {
    const owner = await createTestUser(test.db);
    const urls = Array.from({ length: WATCHED_SOURCES_PER_PERSON + 5 }, (_, index) => `https://example.com/feed-${index}.xml`);
    const added = await Promise.all(urls.map((url) => addWatchedSource(test.db, { ownerId: owner.id, url, intervalMinutes: 1440 })));
    expect(added.filter((outcome) => outcome.ok)).toHaveLength(WATCHED_SOURCES_PER_PERSON);
    expect(added.filter((outcome) => !outcome.ok)).toEqual(Array(5).fill({ ok: false, code: "limit" }));
    await removeWatchedSource(test.db, { id: (await listWatchedSources(test.db, { ownerId: owner.id }))[0].id, ownerId: owner.id });
    const again = await listWatchedSources(test.db, { ownerId: owner.id });
    expect(await addWatchedSource(test.db, { ownerId: owner.id, url: again[0].url, intervalMinutes: 5 })).toEqual({
      ok: false,
      code: "duplicate",
    });
    // Not due: nothing here may reach the network.
    await test.db.delete(watchedSources).where(eq(watchedSources.ownerId, owner.id));
  });
});
