import { randomBytes } from "node:crypto";
import { request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getStorageUsage } from "@/db/queries/storage-usage";
import { createTestDatabase, type TestDatabase } from "@/db/test/database";
import { expectWithinQuota, leaveStorageRoom } from "@/db/test/storage-quota";
import { createWebdavServer } from "./server";
import { createPerson, type Person } from "./test/person";

// The storage quota over WebDAV (issue #15: a free account stored 350 MiB in seconds by COPY, and doubled a
// folder each COPY+MOVE round). The real server over HTTP and a real Postgres; each person's usage row is set
// so that a few small files reach their quota (db/test/storage-quota.ts).

const MAX_UPLOAD_BYTES = 16 * 1024 * 1024;
const KiB = 1024;

let test: TestDatabase;
let server: Server;
let port: number;

beforeAll(async () => {
  test = await createTestDatabase();
  server = createWebdavServer({ db: test.db, maxUploadBytes: MAX_UPLOAD_BYTES, log: () => {} });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await test?.drop();
});

type Answer = { status: number; text: string };

/** A request as a WebDAV client sends it; `chunked` sends the body without a Content-Length. */
function dav(
  as: Person,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: Buffer | string; chunked?: boolean } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {
    ...options.headers,
    Authorization: `Basic ${Buffer.from(`${as.email}:${as.token}`).toString("base64")}`,
  };
  if (options.body !== undefined && !options.chunked) headers["Content-Length"] = String(Buffer.byteLength(options.body));
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: "127.0.0.1", port, method, path, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
    });
    // A request refused before its body is read may see its connection closed while sending.
    outgoing.on("error", reject);
    outgoing.end(options.body);
  });
}

const put = (as: Person, path: string, body: Buffer | string) => dav(as, "PUT", path, { body });
const hrefsOf = (xml: string) => [...xml.matchAll(/<D:href>([^<]*)<\/D:href>/g)].map((match) => decodeURIComponent(match[1]));
const listing = async (as: Person, path: string) => hrefsOf((await dav(as, "PROPFIND", path, { headers: { Depth: "1" } })).text);

describe("the storage quota over WebDAV", () => {
  it("COPY+MOVE doubling a folder stops at the quota with 507, and the refused COPY copies nothing", async () => {
    const mallory = await createPerson(test.db);
    expect((await dav(mallory, "MKCOL", "/uploads/a/")).status).toBe(201);
    for (const name of ["one.bin", "two.bin"]) expect((await put(mallory, `/uploads/a/${name}`, randomBytes(KiB))).status).toBe(201);
    const left = await leaveStorageRoom(test.db, mallory.id, { bytes: 13 * KiB, files: 1000 });

    // Each round copies the folder beside itself and moves the copy into it: 2, 4, 8 KiB copied...
    const statuses: number[] = [];
    for (let round = 1; round <= 10; round++) {
      const copy = await dav(mallory, "COPY", "/uploads/a/", { headers: { Destination: `/uploads/copy-${round}/`, Depth: "infinity" } });
      statuses.push(copy.status);
      if (copy.status !== 201) break;
      expect(
        (await dav(mallory, "MOVE", `/uploads/copy-${round}/`, { headers: { Destination: `/uploads/a/copy-${round}/` } })).status,
      ).toBe(201);
    }

    // ...and the third (8 KiB, with 7 KiB left) is refused whole.
    expect(statuses).toEqual([201, 201, 507]);
    expect(await listing(mallory, "/uploads/copy-3/")).toEqual([]);
    expect(await expectWithinQuota(test.db, left)).toEqual({ bytes: 6 * KiB, files: 6 });
  });

  it("refuses a file copy (COPY's bytes are the server's) and a folder copy past the quota in files", async () => {
    const mallory = await createPerson(test.db);
    await put(mallory, "/uploads/big.bin", randomBytes(8 * KiB));
    expect((await dav(mallory, "MKCOL", "/uploads/many/")).status).toBe(201);
    for (let i = 0; i < 3; i++) await put(mallory, `/uploads/many/${i}.txt`, `file ${i}`);
    const left = await leaveStorageRoom(test.db, mallory.id, { bytes: 4 * KiB, files: 2 });

    expect((await dav(mallory, "COPY", "/uploads/big.bin", { headers: { Destination: "/uploads/big-copy.bin" } })).status).toBe(507);
    expect((await dav(mallory, "COPY", "/uploads/many/", { headers: { Destination: "/uploads/many-copy/" } })).status).toBe(507);
    expect((await dav(mallory, "GET", "/uploads/big-copy.bin")).status).toBe(404);
    expect(await listing(mallory, "/uploads/many-copy/")).toEqual([]);
    // A folder copied without its members (Depth: 0) stores nothing.
    expect((await dav(mallory, "COPY", "/uploads/many/", { headers: { Destination: "/uploads/empty/", Depth: "0" } })).status).toBe(201);
    await expectWithinQuota(test.db, left);
  });

  it("a COPY over an existing folder counts what it replaces as free, and a refused one leaves the destination as it was", async () => {
    const mallory = await createPerson(test.db);
    const folders = { src: 4 * KiB, dst: 3 * KiB, big: 6 * KiB };
    for (const [folder, size] of Object.entries(folders)) {
      await dav(mallory, "MKCOL", `/uploads/${folder}/`);
      await put(mallory, `/uploads/${folder}/${folder}.bin`, folder[0].repeat(size));
    }
    const left = await leaveStorageRoom(test.db, mallory.id, { bytes: 1 * KiB, files: 10 });

    // 4 KiB copied over 3 KiB: 1 KiB more, the room left.
    const overwrite = { Destination: "/uploads/dst/", Overwrite: "T" };
    expect((await dav(mallory, "COPY", "/uploads/src/", { headers: overwrite })).status).toBe(204);
    expect(await listing(mallory, "/uploads/dst/")).toEqual(["/uploads/dst/", "/uploads/dst/src.bin"]);
    // 6 KiB over 4 KiB: 2 KiB more, with none left.
    expect((await dav(mallory, "COPY", "/uploads/big/", { headers: overwrite })).status).toBe(507);
    expect(await listing(mallory, "/uploads/dst/")).toEqual(["/uploads/dst/", "/uploads/dst/src.bin"]);
    expect((await dav(mallory, "GET", "/uploads/dst/src.bin")).text).toBe("s".repeat(4 * KiB));
    await expectWithinQuota(test.db, left);
  });

  it("refuses a PUT past the quota with 507, whether its size is declared or not, and keeps nothing", async () => {
    const mallory = await createPerson(test.db);
    const left = await leaveStorageRoom(test.db, mallory.id, { bytes: 4 * KiB, files: 10 });

    expect((await put(mallory, "/uploads/declared.bin", randomBytes(5 * KiB))).status).toBe(507);
    expect((await dav(mallory, "PUT", "/uploads/chunked.bin", { body: randomBytes(64 * KiB), chunked: true })).status).toBe(507);
    expect((await dav(mallory, "GET", "/uploads/declared.bin")).status).toBe(404);
    expect((await dav(mallory, "GET", "/uploads/chunked.bin")).status).toBe(404);
    expect((await put(mallory, "/uploads/fits.bin", randomBytes(4 * KiB))).status).toBe(201);
    expect((await put(mallory, "/uploads/empty.txt", "")).status).toBe(201);
    expect(await expectWithinQuota(test.db, left)).toEqual({ bytes: 4 * KiB, files: 2 });
  });

  it("a PUT over a file counts the file it replaces as free: at the quota, a file can still be saved again", async () => {
    const alice = await createPerson(test.db);
    await put(alice, "/uploads/notes.txt", "1".repeat(24));
    const left = await leaveStorageRoom(test.db, alice.id, { bytes: 0, files: 0 });

    expect((await put(alice, "/uploads/notes.txt", "2".repeat(24))).status).toBe(200);
    expect((await dav(alice, "GET", "/uploads/notes.txt")).text).toBe("2".repeat(24));
    expect((await put(alice, "/uploads/notes.txt", "3".repeat(33))).status).toBe(507);
    expect((await put(alice, "/uploads/other.txt", "")).status).toBe(507);
    // A LOCK on a new name makes an empty file: one file more than the quota allows.
    const lock = await dav(alice, "LOCK", "/uploads/locked.txt", {
      headers: { Timeout: "Second-60" },
      body: `<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`,
    });
    expect(lock.status).toBe(507);
    expect((await dav(alice, "GET", "/uploads/notes.txt")).text).toBe("2".repeat(24));
    await expectWithinQuota(test.db, left);
  });

  it("a DELETE gives the room back", async () => {
    const alice = await createPerson(test.db);
    await dav(alice, "MKCOL", "/uploads/old/");
    for (let i = 0; i < 3; i++) await put(alice, `/uploads/old/${i}.bin`, randomBytes(2 * KiB));
    const left = await leaveStorageRoom(test.db, alice.id, { bytes: 0, files: 0 });
    expect((await put(alice, "/uploads/new.bin", randomBytes(5 * KiB))).status).toBe(507);

    const before = await getStorageUsage(test.db, { ownerId: alice.id });
    expect((await dav(alice, "DELETE", "/uploads/old/")).status).toBe(200);
    expect(await getStorageUsage(test.db, { ownerId: alice.id })).toMatchObject({ bytes: before.bytes - 6 * KiB, files: before.files - 3 });
    expect((await put(alice, "/uploads/new.bin", randomBytes(5 * KiB))).status).toBe(201);
    await expectWithinQuota(test.db, left);
  });
});
