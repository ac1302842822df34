import { createHash } from "node:crypto";
import { request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { and, asc, eq, sql } from "drizzle-orm";
import fc from "fast-check";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getStorageUsage } from "@/db/queries/storage-usage";
import { deleteUpload, listUploads, removeUpload, storeUpload } from "@/db/queries/uploads";
import { uploads, uploadSteps, webdavEntries, webdavProperties } from "@/db/schema";
import { createTestDatabase, type TestDatabase } from "@/db/test/database";
import { storedTotals } from "@/db/test/storage-quota";
import { waitFor } from "@/db/test/wait-for";
import { startWorker, type RunningWorker } from "@/worker/start-worker";
import { createWebdavServer } from "./server";
import { createPerson, type Person } from "./test/person";

// Concurrent WebDAV requests with a real worker processing what they write. For
// one person, batches of requests (PUT of text and PNG files, some over existing
// names, DELETE, MKCOL, MOVE and COPY with and without Overwrite, PROPFIND, GET,
// PROPPATCH) and uploads and deletes "on the page" (storeUpload, removeUpload) go
// out all at once, on a few names in /uploads and two folders, so they collide
// with each other and with the worker's steps. Properties: never a 5xx and no
// fault logged; once a batch has settled and the worker is idle, the tree and
// the uploads agree (every file is an upload of its owner, every folder has its
// parent, a PROPFIND lists exactly the rows, a GET returns the bytes the
// checksum step read, the storage usage counts exactly the files), every step succeeded, no job is left, and the other
// person's rows did not change. fast-check prints the seed and the batches on failure.

const MAX_UPLOAD_BYTES = 1024 * 1024;
const REQUEST_TIMEOUT_MS = 15_000;
/** The crontab's tasks: always queued for their next run. */
const CRON_TASKS = sql`('housekeeping', 'run_schedules', 'check_sources', 'roll_up_usage')`;

let test: TestDatabase;
let server: Server;
let worker: RunningWorker;
let port: number;
const faults: string[] = [];
let alice: Person;
let bob: Person;
let pngs: Buffer[] = [];

type Answer = { status: number; body: Buffer; text: string };

function dav(
  method: string,
  path: string,
  options: { as?: Person; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<Answer> {
  const person = options.as ?? alice;
  const headers: Record<string, string> = {
    ...options.headers,
    Authorization: `Basic ${Buffer.from(`${person.email}:${person.token}`).toString("base64")}`,
  };
  if (options.body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(options.body));
  return withinTime(
    new Promise((resolve, reject) => {
      const outgoing = httpRequest({ host: "127.0.0.1", port, method, path, headers, agent: false }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const body = Buffer.concat(chunks);
          resolve({ status: response.statusCode ?? 0, body, text: body.toString("utf8") });
        });
      });
      outgoing.on("error", reject);
      outgoing.end(options.body);
    }),
    `${method} ${path}`,
  );
}

const md5 = (bytes: Buffer) => createHash("md5").update(bytes).digest("hex");
const hrefsOf = (xml: string) => [...xml.matchAll(/<D:href>([^<]*)<\/D:href>/g)].map((match) => decodeURIComponent(match[1]));
const encodePath = (path: string) => path.split("/").map(encodeURIComponent).join("/");
/** A path relative to /uploads as a request path. */
const url = (path: string) => `/uploads/${encodePath(path)}`;

// The namespace: few enough names that requests collide.
const FOLDERS = ["f", "g"];
const NAMES = ["a.txt", "b.png", "c"];
const FILE_PATHS = [...NAMES, ...NAMES.slice(0, 2).map((name) => `f/${name}`), "g/a.txt"];
const ANY_PATH = [...FILE_PATHS, ...FOLDERS, "f/g"];

type Content = { kind: "text"; text: string } | { kind: "png"; index: number };
type Op =
  | { op: "PUT"; path: string; content: Content }
  | { op: "DELETE"; path: string }
  | { op: "MKCOL"; path: string }
  | { op: "MOVE" | "COPY"; from: string; to: string; overwrite: boolean | null }
  | { op: "PROPFIND"; path: string }
  | { op: "GET"; path: string }
  | { op: "PROPPATCH"; path: string; value: string }
  | { op: "page upload"; name: string; content: Content }
  | { op: "page delete"; pick: number };

const content: fc.Arbitrary<Content> = fc.oneof(
  fc.record({ kind: fc.constant("text" as const), text: fc.string({ maxLength: 40 }) }),
  fc.record({ kind: fc.constant("png" as const), index: fc.nat({ max: 2 }) }),
);
const anyPath = fc.constantFrom(...ANY_PATH);
const filePath = fc.constantFrom(...FILE_PATHS);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant("PUT" as const), path: filePath, content }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("DELETE" as const), path: anyPath }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("MKCOL" as const), path: fc.constantFrom(...FOLDERS, "f/g") }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constantFrom("MOVE" as const, "COPY" as const),
      from: anyPath,
      to: anyPath,
      overwrite: fc.constantFrom(true, false, null),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("PROPFIND" as const), path: fc.constantFrom("", ...FOLDERS) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("GET" as const), path: filePath }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("PROPPATCH" as const), path: anyPath, value: fc.stringMatching(/^[a-z0-9 ]{0,12}$/) }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("page upload" as const), name: fc.constantFrom(...NAMES), content }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("page delete" as const), pick: fc.nat({ max: 20 }) }) },
);

const bytesOf = (value: Content) => (value.kind === "png" ? pngs[value.index] : Buffer.from(value.text, "utf8"));

/** Runs one request; returns its status, or "-" for page actions. */
async function run(action: Op): Promise<Answer | null> {
  switch (action.op) {
    case "PUT":
      return dav("PUT", url(action.path), { body: bytesOf(action.content) });
    case "DELETE":
      return dav("DELETE", url(action.path));
    case "MKCOL":
      return dav("MKCOL", url(action.path));
    case "MOVE":
    case "COPY": {
      const headers: Record<string, string> = { Destination: `http://127.0.0.1:${port}${url(action.to)}`, Depth: "infinity" };
      if (action.overwrite !== null) headers.Overwrite = action.overwrite ? "T" : "F";
      return dav(action.op, url(action.from), { headers });
    }
    case "PROPFIND":
      return dav("PROPFIND", action.path === "" ? "/uploads/" : `${url(action.path)}/`, { headers: { Depth: "1" } });
    case "GET":
      return dav("GET", url(action.path));
    case "PROPPATCH":
      return dav("PROPPATCH", url(action.path), {
        headers: { "Content-Type": "application/xml" },
        body: `<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:longrun-test"><D:set><D:prop><Z:tag>${action.value}</Z:tag></D:prop></D:set></D:propertyupdate>`,
      });
    case "page upload":
      await storeUpload(
        test.db,
        Readable.from([bytesOf(action.content)]),
        { ownerId: alice.id, name: action.name, declaredType: null },
        { maxBytes: MAX_UPLOAD_BYTES },
      );
      return null;
    case "page delete": {
      const mine = await listUploads(test.db, { ownerId: alice.id });
      if (mine.length > 0) await removeUpload(test.db, { id: mine[action.pick % mine.length].id, ownerId: alice.id });
      return null;
    }
  }
}

/** A request that does not settle in time fails the property, with what the database was doing. */
async function withinTime<T>(pending: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      test.db
        .execute(
          sql`select pid, state, wait_event_type, wait_event, left(query, 200) as query from pg_stat_activity where datname = current_database()`,
        )
        .then(
          (rows) => reject(new Error(`${what} did not settle in ${REQUEST_TIMEOUT_MS} ms; sessions: ${JSON.stringify(rows)}`)),
          (error) => reject(new Error(`${what} did not settle in ${REQUEST_TIMEOUT_MS} ms (${error})`)),
        );
    }, REQUEST_TIMEOUT_MS);
  });
  try {
    return await Promise.race([pending, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Until every step has finished and no job is left but the crontab's. */
async function waitForIdleWorker() {
  await waitFor(
    async () => {
      const [steps] = await test.db.execute<{ count: number }>(
        sql`select count(*)::int as count from upload_steps where status in ('queued', 'running')`,
      );
      const [jobs] = await test.db.execute<{ count: number }>(
        sql`select count(*)::int as count from graphile_worker.jobs where task_identifier not in ${CRON_TASKS}`,
      );
      return { steps: steps.count, jobs: jobs.count };
    },
    (value) => value.steps === 0 && value.jobs === 0,
  );
}

/** What of a person's rows must not change when somebody else works. */
async function snapshot(person: Person) {
  const entries = await test.db
    .select({
      id: webdavEntries.id,
      path: webdavEntries.path,
      kind: webdavEntries.kind,
      uploadId: webdavEntries.uploadId,
      modifiedAt: webdavEntries.modifiedAt,
    })
    .from(webdavEntries)
    .where(eq(webdavEntries.ownerId, person.id))
    .orderBy(asc(webdavEntries.path));
  const files = await test.db
    .select({ id: uploads.id, name: uploads.name, md5: uploads.md5, size: uploads.size })
    .from(uploads)
    .where(eq(uploads.ownerId, person.id))
    .orderBy(asc(uploads.id));
  const properties = await test.db
    .select({ entryId: webdavProperties.entryId, name: webdavProperties.name, value: webdavProperties.value })
    .from(webdavProperties)
    .innerJoin(webdavEntries, eq(webdavEntries.id, webdavProperties.entryId))
    .where(eq(webdavEntries.ownerId, person.id))
    .orderBy(asc(webdavProperties.entryId), asc(webdavProperties.name));
  return { entries, files, properties };
}

/** The invariants, once the batch has settled and the worker is idle. */
async function checkInvariants(bobBefore: Awaited<ReturnType<typeof snapshot>>) {
  // A listing of /uploads adopts what was uploaded on the page: every upload then has its place.
  expect((await dav("PROPFIND", "/uploads/", { headers: { Depth: "1" } })).status).toBe(207);

  const entries = await test.db
    .select({
      path: webdavEntries.path,
      kind: webdavEntries.kind,
      uploadId: webdavEntries.uploadId,
      uploadOwner: uploads.ownerId,
      md5: uploads.md5,
    })
    .from(webdavEntries)
    .leftJoin(uploads, eq(uploads.id, webdavEntries.uploadId))
    .where(eq(webdavEntries.ownerId, alice.id));
  const folders = new Set(entries.filter((entry) => entry.kind === "folder").map((entry) => entry.path));
  for (const entry of entries) {
    if (entry.kind === "file") expect(entry.uploadOwner, `the upload of ${entry.path}`).toBe(alice.id);
    const parent = entry.path.includes("/") ? entry.path.slice(0, entry.path.lastIndexOf("/")) : "";
    if (parent !== "") expect(folders.has(parent), `the parent of ${entry.path}`).toBe(true);
  }
  const placed = new Set(entries.map((entry) => entry.uploadId).filter(Boolean));
  const mine = await listUploads(test.db, { ownerId: alice.id });
  expect(mine.filter((upload) => !placed.has(upload.id)).map((upload) => upload.name)).toEqual([]);
  for (const upload of mine) {
    expect(
      upload.steps.map((step) => `${step.step}:${step.status}`).filter((step) => !step.endsWith(":succeeded")),
      upload.name,
    ).toEqual([]);
  }
  const [otherSteps] = await test.db.execute<{ count: number }>(
    sql`select count(*)::int as count from ${uploadSteps} s join ${uploads} u on u.id = s.upload_id where u.owner_id = ${alice.id} and s.status <> 'succeeded'`,
  );
  expect(otherSteps.count).toBe(0);
  // Her storage usage counts exactly her files, whichever requests added and deleted them.
  const usage = await getStorageUsage(test.db, { ownerId: alice.id });
  expect({ bytes: usage.bytes, files: usage.files }).toEqual(await storedTotals(test.db, alice.id));

  // Each folder lists exactly its rows; each file answers with the bytes the checksum step read.
  for (const folder of ["", ...folders]) {
    const listing = await dav("PROPFIND", folder === "" ? "/uploads/" : `${url(folder)}/`, { headers: { Depth: "1" } });
    expect(listing.status, listing.text).toBe(207);
    const listed = hrefsOf(listing.text)
      .slice(1)
      .map((href) => href.replace(/^\/uploads\//, "").replace(/\/$/, ""))
      .sort();
    const children = entries
      .filter((entry) => (entry.path.includes("/") ? entry.path.slice(0, entry.path.lastIndexOf("/")) : "") === folder)
      .map((entry) => entry.path)
      .sort();
    expect(listed, `the listing of /uploads/${folder}`).toEqual(children);
  }
  for (const entry of entries.filter((entry) => entry.kind === "file")) {
    const got = await dav("GET", url(entry.path));
    expect(got.status, entry.path).toBe(200);
    expect(entry.md5, entry.path).not.toBeNull();
    expect(md5(got.body), entry.path).toBe(entry.md5);
  }

  expect(await snapshot(bob)).toEqual(bobBefore);
  expect(faults).toEqual([]);
}

/** Empties Alice's tree between runs, as requests would, then puts a file at every file path. */
async function reset() {
  const top = await test.db
    .select({ path: webdavEntries.path })
    .from(webdavEntries)
    .where(and(eq(webdavEntries.ownerId, alice.id), sql`strpos(${webdavEntries.path}, '/') = 0`));
  for (const { path } of top) expect([200, 204]).toContain((await dav("DELETE", url(path))).status);
  await waitForIdleWorker();
  // Something at most paths, its processing still under way when the batch starts.
  for (const folder of FOLDERS) expect((await dav("MKCOL", url(folder))).status).toBe(201);
  for (const [index, path] of FILE_PATHS.entries()) {
    expect((await dav("PUT", url(path), { body: path.endsWith(".png") ? pngs[index % pngs.length] : `seed ${path}` })).status).toBe(201);
  }
}

beforeAll(async () => {
  test = await createTestDatabase();
  // A batch's requests all in flight at once (up to 16): the interleavings are the point here, not the limit.
  server = createWebdavServer({
    db: test.db,
    maxUploadBytes: MAX_UPLOAD_BYTES,
    maxRequestsInFlightPerPerson: 16,
    log: (line) => faults.push(line),
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  worker = await startWorker({ databaseUrl: test.url, concurrency: 3, renderThreads: 1, log: () => {} });
  // Pro: the property sends more requests a minute than a free account may make.
  alice = await createPerson(test.db, { tier: "pro" });
  bob = await createPerson(test.db, { tier: "pro" });
  pngs = await Promise.all(
    [
      [8, 8, { r: 255, g: 0, b: 0 }],
      [16, 9, { r: 0, g: 128, b: 255 }],
      [5, 12, { r: 10, g: 200, b: 30 }],
    ].map(([width, height, background]) =>
      sharp({
        create: {
          width: width as number,
          height: height as number,
          channels: 3,
          background: background as { r: number; g: number; b: number },
        },
      })
        .png()
        .toBuffer(),
    ),
  );
  // Bob's tree, which nothing Alice does may touch: the same names as hers.
  expect((await dav("MKCOL", "/uploads/f", { as: bob })).status).toBe(201);
  expect((await dav("PUT", "/uploads/a.txt", { as: bob, body: "bob's a" })).status).toBe(201);
  expect((await dav("PUT", "/uploads/f/b.png", { as: bob, body: pngs[0] })).status).toBe(201);
  await waitForIdleWorker();
});

afterAll(async () => {
  await worker?.stop();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await test?.drop();
});

describe("concurrent WebDAV requests with a worker processing what they write", () => {
  it("a GET of a file deleted between finding it and reading it answers 404, not a Content-Length it never sends", async () => {
    // The interleaving the property found: a GET finds b.png's entry, a PUT over b.png (or a delete)
    // commits and deletes the old bytes, then the GET reads them. Played here by deleting the bytes
    // under the entry. Before, the GET sent 200 and the size, then no bytes: the client waited forever.
    expect((await dav("PUT", "/uploads/gone.txt", { body: "soon gone" })).status).toBe(201);
    await waitForIdleWorker();
    const [entry] = await test.db
      .select({ storageKey: uploads.storageKey })
      .from(webdavEntries)
      .innerJoin(uploads, eq(uploads.id, webdavEntries.uploadId))
      .where(and(eq(webdavEntries.ownerId, alice.id), eq(webdavEntries.path, "gone.txt")));
    await test.db.execute(sql`delete from stored_file_chunks where file_key = ${entry.storageKey}`);
    expect((await dav("GET", "/uploads/gone.txt")).status).toBe(404);
    expect(faults).toEqual([]);
    expect((await dav("DELETE", "/uploads/gone.txt")).status).toBe(200);
    await waitForIdleWorker();
  });

  it("a COPY whose source file is replaced by a folder while it waits copies the file it found, or answers 404: not a 500", async () => {
    // The interleaving the property found: COPY a.txt onto an existing name with Overwrite finds
    // a.txt (a file), then waits for the tree's lock to delete the destination; meanwhile a MOVE of
    // a folder onto a.txt commits. The COPY then looked a.txt up again, found a folder, and answered
    // 500. Played here by holding the tree's lock and making that MOVE's change under it.
    expect((await dav("PUT", "/uploads/source.txt", { body: "source" })).status).toBe(201);
    expect((await dav("PUT", "/uploads/target.txt", { body: "target" })).status).toBe(201);
    expect((await dav("MKCOL", "/uploads/folder")).status).toBe(201);
    await waitForIdleWorker();
    const [source] = await test.db
      .select({ uploadId: webdavEntries.uploadId })
      .from(webdavEntries)
      .where(and(eq(webdavEntries.ownerId, alice.id), eq(webdavEntries.path, "source.txt")));
    let copy: Promise<Answer> | undefined;
    await test.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${alice.id}::text, 5))`);
      copy = dav("COPY", "/uploads/source.txt", {
        headers: { Destination: `http://127.0.0.1:${port}/uploads/target.txt`, Overwrite: "T" },
      });
      await waitFor(
        () =>
          test.db.execute<{ count: number }>(sql`select count(*)::int as count from pg_locks where locktype = 'advisory' and not granted`),
        ([row]) => row.count > 0,
      );
      await deleteUpload(tx, { id: source.uploadId!, ownerId: alice.id });
      await tx.execute(sql`update webdav_entries set path = 'source.txt' where owner_id = ${alice.id} and path = 'folder'`);
    });
    const answer = await copy!;
    expect(answer.status, answer.text).toBe(404);
    expect(faults).toEqual([]);
    for (const path of ["source.txt", "target.txt"]) await dav("DELETE", `/uploads/${path}`);
    await waitForIdleWorker();
  });

  it("a listing that adopts an upload deleted on the page meanwhile leaves it out: not a 500", async () => {
    // The interleaving the property found (seed -1606813522, under load): a PROPFIND of /uploads finds an
    // upload made on the page, then waits for the tree's lock to give it a place; meanwhile a delete on the
    // page (which takes no tree lock) removes it. The entry's insert then broke its foreign key: a 500. Played
    // here by holding the tree's lock, and the delete uncommitted while the listing reads the upload again.
    const upload = await storeUpload(
      test.db,
      Readable.from([Buffer.from("from the page")]),
      { ownerId: alice.id, name: "page-only.txt", declaredType: null },
      { maxBytes: MAX_UPLOAD_BYTES },
    );
    await waitForIdleWorker();
    const waiting = (locktype: string) =>
      waitFor(
        () =>
          test.db.execute<{ count: number }>(
            sql`select count(*)::int as count from pg_locks l join pg_stat_activity a on a.pid = l.pid where a.datname = current_database() and l.locktype = ${locktype} and not l.granted`,
          ),
        ([row]) => row.count > 0,
      );
    let listing: Promise<Answer> | undefined;
    let commitDelete = () => {};
    let deleted: Promise<unknown> | undefined;
    await test.db.transaction(async (tree) => {
      await tree.execute(sql`select pg_advisory_xact_lock(hashtextextended(${alice.id}::text, 5))`);
      listing = dav("PROPFIND", "/uploads/", { headers: { Depth: "1" } });
      await waiting("advisory");
      await new Promise<void>((isDeleting) => {
        deleted = test.db.transaction(async (page) => {
          await deleteUpload(page, { id: upload.id, ownerId: alice.id });
          isDeleting();
          await new Promise<void>((resolve) => (commitDelete = resolve));
        });
      });
    });
    // The listing now waits for the delete's row lock; once the delete commits it has nothing to adopt.
    await waiting("transactionid");
    commitDelete();
    await deleted;
    const answer = await listing!;
    expect(answer.status, answer.text).toBe(207);
    expect(answer.text).not.toContain("page-only.txt");
    expect(faults).toEqual([]);
  });

  it("never answer 5xx, and leave the tree, the uploads and the jobs consistent", async () => {
    const bobBefore = await snapshot(bob);
    expect(bobBefore.files.every((file) => file.md5 !== null)).toBe(true);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op, { minLength: 8, maxLength: 16 }), { minLength: 1, maxLength: 3 }), async (batches) => {
        await reset();
        for (const batch of batches) {
          const answers = await Promise.all(
            batch.map(async (action) => ({ action, answer: await withinTime(run(action), JSON.stringify(action)) })),
          );
          for (const { action, answer } of answers) {
            if (answer && answer.status >= 500)
              throw new Error(
                `${JSON.stringify(action)} answered ${answer.status}: ${answer.text.slice(0, 2000)}; faults: ${faults.join("\n")}`,
              );
          }
          expect(faults).toEqual([]);
          await waitForIdleWorker();
          await checkInvariants(bobBefore);
        }
      }),
      { numRuns: 40, endOnFailure: true },
    );
  }, 240_000);
});
