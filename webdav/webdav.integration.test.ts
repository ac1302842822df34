import { createHash, randomBytes } from "node:crypto";
import { request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { revokeApiToken } from "@/db/queries/api-tokens";
import { saveConfiguration } from "@/db/queries/configurations";
import { listUploads, storeUpload } from "@/db/queries/uploads";
import { results, storedFiles, uploads, webdavEntries } from "@/db/schema";
import { createTestDatabase, type TestDatabase } from "@/db/test/database";
import { waitFor } from "@/db/test/wait-for";
import { DEFAULT_CONFIGURATION } from "@/lib/validation/configuration";
import { startWorker, type RunningWorker } from "@/worker/start-worker";
import { createWebdavServer } from "./server";
import { createPerson, type Person } from "./test/person";

// The real server over HTTP, a real Postgres and a real worker: nothing stands in.
const MAX_UPLOAD_BYTES = 16 * 1024 * 1024;

let test: TestDatabase;
let server: Server;
let worker: RunningWorker;
let port: number;
let alice: Person;
let bob: Person;

beforeAll(async () => {
  test = await createTestDatabase();
  server = createWebdavServer({ db: test.db, maxUploadBytes: MAX_UPLOAD_BYTES, log: () => {} });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  worker = await startWorker({ databaseUrl: test.url, concurrency: 2, renderThreads: 1, log: () => {} });
  alice = await createPerson(test.db);
  bob = await createPerson(test.db);
});

afterAll(async () => {
  await worker?.stop();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await test?.drop();
});

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; text: string };

/** A raw HTTP request: the path goes out exactly as written (fetch would resolve "..", which these tests must send). */
function dav(
  method: string,
  path: string,
  options: { as?: Person | null; password?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<Answer> {
  const person = options.as === undefined ? alice : options.as;
  const headers: Record<string, string> = { ...options.headers };
  const password = options.password ?? person?.token;
  if (password !== undefined) headers.Authorization = `Basic ${Buffer.from(`${person?.email ?? "anyone"}:${password}`).toString("base64")}`;
  if (options.body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(options.body));
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: "127.0.0.1", port, method, path, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const body = Buffer.concat(chunks);
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body, text: body.toString("utf8") });
      });
    });
    outgoing.on("error", reject);
    outgoing.end(options.body);
  });
}

const propfind = (path: string, depth: "0" | "1", as: Person = alice) => dav("PROPFIND", path, { as, headers: { Depth: depth } });
/** The hrefs of a PROPFIND answer. */
const hrefsOf = (xml: string) => [...xml.matchAll(/<D:href>([^<]*)<\/D:href>/g)].map((match) => decodeURIComponent(match[1]));
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const uploadsOf = (person: Person) => test.db.select().from(uploads).where(eq(uploads.ownerId, person.id));

describe("authentication", () => {
  it("answers POST with 405 (webdav-server would take it for a PUT) and sends no CORS headers", async () => {
    const answer = await dav("POST", "/uploads/posted.txt", { body: "x" });
    expect(answer.status).toBe(405);
    expect((await dav("GET", "/uploads/posted.txt")).status).toBe(404);
    const listing = await propfind("/", "0");
    expect(Object.keys(listing.headers).filter((name) => name.startsWith("access-control-"))).toEqual([]);
  });

  it("asks for Basic credentials without a token, and refuses unknown and revoked tokens", async () => {
    const anonymous = await dav("PROPFIND", "/", { as: null, headers: { Depth: "0" } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers["www-authenticate"]).toMatch(/^Basic realm="Longrun"/);

    expect((await dav("PROPFIND", "/", { password: "lr_not-a-token", headers: { Depth: "0" } })).status).toBe(401);

    const carol = await createPerson(test.db);
    expect((await propfind("/", "0", carol)).status).toBe(207);
    const [token] = await test.db.query.apiTokens.findMany({ where: (table, { eq }) => eq(table.ownerId, carol.id) });
    expect(await revokeApiToken(test.db, { id: token.id, ownerId: carol.id })).toBe(true);
    const revoked = await propfind("/", "0", carol);
    expect(revoked.status).toBe(401);
    expect(revoked.headers["www-authenticate"]).toMatch(/^Basic realm="Longrun"/);
  });

  it("takes any user name: the token says who it is", async () => {
    const answer = await dav("PROPFIND", "/uploads/", {
      headers: { Depth: "0", Authorization: `Basic ${Buffer.from(`whoever:${alice.token}`).toString("base64")}` },
    });
    expect(answer.status).toBe(207);
  });
});

describe("files under /uploads", () => {
  it("a PUT is an upload, processed like any other: checksum and type appear", async () => {
    const bytes = Buffer.from("Hello from WebDAV\n");
    const put = await dav("PUT", "/uploads/hello.txt", { body: bytes, headers: { "Content-Type": "application/octet-stream" } });
    expect(put.status).toBe(201);

    const [upload] = (await listUploads(test.db, { ownerId: alice.id })).filter((row) => row.name === "hello.txt");
    expect(upload.size).toBe(bytes.length);
    const processed = await waitFor(
      () => listUploads(test.db, { ownerId: alice.id, id: upload.id }),
      ([row]) => row?.isProcessed ?? false,
    );
    expect(processed[0].md5).toBe(createHash("md5").update(bytes).digest("hex"));
    expect(processed[0].detectedType).toBe("text/plain");
    expect(processed[0].steps.map((step) => step.status)).toEqual(["succeeded", "succeeded"]);

    const listing = await propfind("/uploads/", "1");
    expect(listing.status).toBe(207);
    expect(hrefsOf(listing.text)).toContain("/uploads/hello.txt");
    const entry = listing.text.slice(listing.text.indexOf("/uploads/hello.txt"));
    expect(entry).toMatch(/<D:getcontentlength>18<\/D:getcontentlength>/);
    expect(entry).toMatch(/<D:getcontenttype>text\/plain<\/D:getcontenttype>/);
    expect(entry).toMatch(/<D:getlastmodified>\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT<\/D:getlastmodified>/);
    expect(entry).toMatch(/<D:creationdate>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z<\/D:creationdate>/);
    expect(entry).toMatch(/<D:getetag>"[0-9a-f-]{36}"<\/D:getetag>/);
  });

  it("streams a file of several chunks (and several read batches) in and out byte for byte", async () => {
    const bytes = randomBytes(9 * 1024 * 1024 + 12345);
    expect((await dav("PUT", "/uploads/big.bin", { body: bytes })).status).toBe(201);
    const got = await dav("GET", "/uploads/big.bin");
    expect(got.status).toBe(200);
    expect(got.body.length).toBe(bytes.length);
    expect(sha256(got.body)).toBe(sha256(bytes));
  });

  it("refuses a file over the size limit and keeps nothing", async () => {
    const before = await test.db.select().from(storedFiles);
    const answer = await dav("PUT", "/uploads/too-big.bin", { body: Buffer.alloc(MAX_UPLOAD_BYTES + 1) });
    expect(answer.status).toBe(413);
    expect((await dav("GET", "/uploads/too-big.bin")).status).toBe(404);
    expect((await uploadsOf(alice)).some((row) => row.name === "too-big.bin")).toBe(false);
    expect((await test.db.select().from(storedFiles)).length).toBe(before.length);
  });

  it("a PUT over a file makes a new upload and deletes the old one; dead properties stay", async () => {
    await dav("PUT", "/uploads/draft.txt", { body: "one" });
    const proppatch = await dav("PROPPATCH", "/uploads/draft.txt", {
      body: `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:colour xmlns:x="urn:test:">blue</x:colour></D:prop></D:set></D:propertyupdate>`,
    });
    expect(proppatch.status).toBe(207);
    const [first] = (await uploadsOf(alice)).filter((row) => row.name === "draft.txt");

    const put = await dav("PUT", "/uploads/draft.txt", { body: "two!" });
    expect(put.status).toBe(200);
    const drafts = (await uploadsOf(alice)).filter((row) => row.name === "draft.txt");
    expect(drafts).toHaveLength(1);
    expect(drafts[0].id).not.toBe(first.id);
    expect((await dav("GET", "/uploads/draft.txt")).text).toBe("two!");
    const props = await dav("PROPFIND", "/uploads/draft.txt", {
      headers: { Depth: "0" },
      body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><x:colour xmlns:x="urn:test:"/></D:prop></D:propfind>`,
    });
    expect(props.text).toContain(`<P:colour xmlns:P="urn:test:">blue</P:colour>`);
  });

  it("folders: MKCOL, PUT inside, MOVE renames (the upload takes its new name), DELETE removes the uploads", async () => {
    expect((await dav("MKCOL", "/uploads/photos/")).status).toBe(201);
    expect((await dav("PUT", "/uploads/photos/cat.txt", { body: "meow" })).status).toBe(201);
    expect((await dav("PUT", "/uploads/nowhere/cat.txt", { body: "meow" })).status).toBe(409);

    const moved = await dav("MOVE", "/uploads/photos/cat.txt", {
      headers: { Destination: `http://127.0.0.1:${port}/uploads/photos/kitten.txt` },
    });
    expect(moved.status).toBe(201);
    expect((await uploadsOf(alice)).some((row) => row.name === "kitten.txt")).toBe(true);

    expect((await dav("MOVE", "/uploads/photos/", { headers: { Destination: "/uploads/pictures/" } })).status).toBe(201);
    expect((await dav("GET", "/uploads/pictures/kitten.txt")).text).toBe("meow");
    expect(hrefsOf((await propfind("/uploads/pictures/", "1")).text)).toEqual(["/uploads/pictures/", "/uploads/pictures/kitten.txt"]);

    const [kitten] = (await uploadsOf(alice)).filter((row) => row.name === "kitten.txt");
    expect((await dav("DELETE", "/uploads/pictures/")).status).toBe(200);
    expect((await dav("GET", "/uploads/pictures/kitten.txt")).status).toBe(404);
    expect(await test.db.select().from(uploads).where(eq(uploads.id, kitten.id))).toEqual([]);
    expect(await test.db.select().from(storedFiles).where(eq(storedFiles.key, kitten.storageKey))).toEqual([]);
  });

  it("COPY of a file is a new upload with the same bytes, processed too", async () => {
    await dav("PUT", "/uploads/original.txt", { body: "copy me" });
    expect((await dav("COPY", "/uploads/original.txt", { headers: { Destination: "/uploads/copy.txt" } })).status).toBe(201);
    expect((await dav("GET", "/uploads/copy.txt")).text).toBe("copy me");
    const [copy] = (await listUploads(test.db, { ownerId: alice.id })).filter((row) => row.name === "copy.txt");
    await waitFor(
      () => listUploads(test.db, { ownerId: alice.id, id: copy.id }),
      ([row]) => row?.md5 === createHash("md5").update("copy me").digest("hex"),
    );
  });

  it("COPY or MOVE onto a folder above the source is refused (403) and deletes nothing", async () => {
    // Found by webdav/fuzz.integration.test.ts: with Overwrite, the folder (and the source in it) was deleted
    // first; the COPY then answered 404 having deleted both, the MOVE 204 having moved nothing.
    expect((await dav("MKCOL", "/uploads/outer/")).status).toBe(201);
    expect((await dav("MKCOL", "/uploads/outer/inner/")).status).toBe(201);
    expect((await dav("PUT", "/uploads/outer/inner/kept.txt", { body: "kept" })).status).toBe(201);
    const before = await test.db.select().from(webdavEntries).where(eq(webdavEntries.ownerId, alice.id));
    for (const method of ["COPY", "MOVE"]) {
      for (const destination of ["/uploads/outer/", "/uploads/outer/inner/"]) {
        const answer = await dav(method, "/uploads/outer/inner/kept.txt", { headers: { Destination: destination, Overwrite: "T" } });
        expect(answer.status, `${method} to ${destination}`).toBe(403);
      }
      // Without Overwrite the destination is there: 412, as for any other.
      expect(
        (await dav(method, "/uploads/outer/inner/kept.txt", { headers: { Destination: "/uploads/outer/", Overwrite: "F" } })).status,
      ).toBe(412);
    }
    expect(await test.db.select().from(webdavEntries).where(eq(webdavEntries.ownerId, alice.id))).toEqual(before);
    expect((await dav("GET", "/uploads/outer/inner/kept.txt")).text).toBe("kept");
  });

  it("uploads made on the page appear in /uploads, numbered when names repeat, and are deleted from there", async () => {
    const bytes = async function* () {
      yield Buffer.from("from the page");
    };
    await storeUpload(test.db, bytes(), { ownerId: alice.id, name: "report.pdf", declaredType: null }, { maxBytes: MAX_UPLOAD_BYTES });
    await storeUpload(test.db, bytes(), { ownerId: alice.id, name: "report.pdf", declaredType: null }, { maxBytes: MAX_UPLOAD_BYTES });
    await storeUpload(test.db, bytes(), { ownerId: alice.id, name: "../etc/passwd", declaredType: null }, { maxBytes: MAX_UPLOAD_BYTES });
    const hrefs = hrefsOf((await propfind("/uploads/", "1")).text);
    expect(hrefs).toEqual(expect.arrayContaining(["/uploads/report.pdf", "/uploads/report (2).pdf", "/uploads/.._etc_passwd"]));
    expect((await dav("GET", "/uploads/report (2).pdf".replace(" ", "%20"))).text).toBe("from the page");
    expect((await dav("DELETE", "/uploads/.._etc_passwd")).status).toBe(200);
    expect((await uploadsOf(alice)).some((row) => row.name === "../etc/passwd")).toBe(false);
  });
});

describe("another person's files", () => {
  it("are never listed, and every path to them is a 404", async () => {
    await dav("PUT", "/uploads/secret.txt", { body: "alice only" });
    await dav("MKCOL", "/uploads/private/");

    const bobsListing = await propfind("/uploads/", "1", bob);
    expect(bobsListing.status).toBe(207);
    expect(bobsListing.text).not.toContain("secret");
    expect(bobsListing.text).not.toContain("private");
    for (const method of ["GET", "HEAD", "DELETE", "LOCK", "UNLOCK"]) {
      expect((await dav(method, "/uploads/secret.txt", { as: bob })).status, method).toBeGreaterThanOrEqual(400);
    }
    const proppatch = `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:y xmlns:x="urn:x:">z</x:y></D:prop></D:set></D:propertyupdate>`;
    expect((await dav("PROPPATCH", "/uploads/secret.txt", { as: bob, body: proppatch })).status).toBe(404);
    expect((await propfind("/uploads/secret.txt", "0", bob)).status).toBe(404);
    expect((await dav("MOVE", "/uploads/secret.txt", { as: bob, headers: { Destination: "/uploads/mine.txt" } })).status).toBe(404);
    expect((await dav("COPY", "/uploads/secret.txt", { as: bob, headers: { Destination: "/uploads/mine.txt" } })).status).toBe(404);
    expect((await dav("PUT", "/uploads/private/x.txt", { as: bob, body: "x" })).status).toBe(409);

    // The same name in Bob's tree is Bob's own file.
    expect((await dav("PUT", "/uploads/secret.txt", { as: bob, body: "bob's" })).status).toBe(201);
    expect((await dav("GET", "/uploads/secret.txt")).text).toBe("alice only");
    expect((await dav("GET", "/uploads/secret.txt", { as: bob })).text).toBe("bob's");
    expect((await dav("DELETE", "/uploads/secret.txt", { as: bob })).status).toBe(200);
    expect((await dav("GET", "/uploads/secret.txt")).text).toBe("alice only");
  });

  it("their renders are not in my /results", async () => {
    const saved = await saveConfiguration(test.db, {
      ownerId: alice.id,
      input: { ...DEFAULT_CONFIGURATION, name: "Alice's secret", width: 32, height: 32 },
    });
    expect(saved.ok).toBe(true);
    const listing = await propfind("/results/", "1", bob);
    expect(listing.status).toBe(207);
    expect(listing.text).not.toContain("secret");
    expect((await propfind("/results/Alice's%20secret/", "0", bob)).status).toBe(404);
    expect((await propfind("/results/Alice's%20secret/", "0", alice)).status).toBe(207);
  });
});

describe("paths that try to escape", () => {
  it("refuses '..', '.', encoded slashes and control characters, in the URL and in Destination", async () => {
    for (const path of [
      "/uploads/../results/",
      "/uploads/%2e%2e/x",
      "/uploads/a%2Fb",
      "/uploads/a%5Cb",
      "/uploads/./x",
      "/uploads/a%00b",
      "/uploads/x#frag",
    ]) {
      expect((await dav("PROPFIND", path, { headers: { Depth: "0" } })).status, path).toBe(400);
    }
    await dav("PUT", "/uploads/stay.txt", { body: "here" });
    for (const destination of [
      "/uploads/../../escape.txt",
      `http://127.0.0.1:${port}/uploads/a%2F..%2Fb`,
      "/uploads/moved.txt#fragment",
      `http://127.0.0.1:${port}/uploads/moved.txt#`,
    ]) {
      expect((await dav("MOVE", "/uploads/stay.txt", { headers: { Destination: destination } })).status, destination).toBe(400);
      expect((await dav("COPY", "/uploads/stay.txt", { headers: { Destination: destination } })).status, destination).toBe(400);
    }
    expect((await dav("GET", "/uploads/stay.txt")).text).toBe("here");
    expect((await dav("GET", "/uploads/moved.txt")).status).toBe(404);
  });

  it("keeps only a Content-Type's type/subtype, lower-cased, as the declared type, and none for a malformed one", async () => {
    for (const [name, contentType, declared] of [
      ["typed.txt", "TEXT/Plain; charset=utf-8", "text/plain"],
      ["html.txt", "<script>alert(1)</script>", null],
      ["two.txt", "image/png, text/html", null],
      ["long.txt", `application/${"x".repeat(500)}`, null],
    ] as const) {
      expect((await dav("PUT", `/uploads/${name}`, { body: "text", headers: { "Content-Type": contentType } })).status, name).toBe(201);
      const [upload] = (await uploadsOf(alice)).filter((row) => row.name === name);
      expect(upload.declaredType, name).toBe(declared);
    }
  });

  it("answers a malformed If header with 400 and an untagged one without crashing", async () => {
    expect((await dav("PUT", "/uploads/stay.txt", { body: "x", headers: { If: "(<urn:uuid:nope" } })).status).toBe(400);
    expect((await dav("PUT", "/uploads/stay.txt", { body: "x", headers: { If: "(<urn:uuid:not-a-lock>)" } })).status).toBe(412);
    expect((await dav("GET", "/uploads/stay.txt")).text).toBe("here");
  });
});

describe("/results", () => {
  it("shows each configuration's finished renders, read-only; COPY into /uploads makes an upload", async () => {
    const saved = await saveConfiguration(test.db, {
      ownerId: alice.id,
      input: { ...DEFAULT_CONFIGURATION, name: "Spiral / test", width: 48, height: 32 },
    });
    if (!saved.ok) throw new Error("save failed");
    const [result] = await waitFor(
      () => test.db.select().from(results).where(eq(results.id, saved.resultId)),
      ([row]) => row?.status === "succeeded",
    );

    const folders = await propfind("/results/", "1");
    expect(hrefsOf(folders.text)).toContain("/results/Spiral _ test/");
    const images = await propfind("/results/Spiral%20_%20test/", "1");
    const imageHref = hrefsOf(images.text).find((href) => href.endsWith(".png"));
    expect(imageHref).toBe("/results/Spiral _ test/c-0.8+0.156i_d256_48x32_z1_nipy_spectral.png");
    expect(images.text).toContain(`<D:getcontentlength>${result.imageBytes}</D:getcontentlength>`);
    expect(images.text).toContain("<D:getcontenttype>image/png</D:getcontenttype>");
    const imagePath = imageHref!.split("/").map(encodeURIComponent).join("/");
    const image = await dav("GET", imagePath);
    expect(image.status).toBe(200);
    expect(sha256(image.body)).toBe(result.imageSha256);

    expect((await dav("PUT", "/results/Spiral%20_%20test/new.png", { body: "x" })).status).toBe(403);
    expect((await dav("DELETE", imagePath)).status).toBe(403);
    expect((await dav("MKCOL", "/results/new/")).status).toBe(403);
    expect((await dav("MOVE", imagePath, { headers: { Destination: "/uploads/moved.png" } })).status).toBe(403);
    expect((await dav("PUT", "/uploads", { body: "x" })).status).toBe(405);
    expect((await dav("GET", imagePath)).status).toBe(200);

    expect((await dav("COPY", imagePath, { headers: { Destination: "/uploads/render.png" } })).status).toBe(201);
    const [copied] = (await listUploads(test.db, { ownerId: alice.id })).filter((row) => row.name === "render.png");
    const processed = await waitFor(
      () => listUploads(test.db, { ownerId: alice.id, id: copied.id }),
      ([row]) => row?.isProcessed ?? false,
    );
    expect(processed[0].detectedType).toBe("image/png");
    expect(processed[0].thumbnailSha256).not.toBeNull();
  });
});

describe("locks", () => {
  const lockBody = `<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>laptop</D:owner></D:lockinfo>`;

  it("a LOCK keeps writes without its token out, and is nobody else's business", async () => {
    await dav("PUT", "/uploads/locked.txt", { body: "v1" });
    const lock = await dav("LOCK", "/uploads/locked.txt", { body: lockBody, headers: { Timeout: "Second-600" } });
    expect(lock.status).toBe(200);
    // RFC 4918 §10.5: in angle brackets.
    expect(lock.headers["lock-token"]).toMatch(/^<urn:uuid:[^>]+>$/);
    const token = String(lock.headers["lock-token"]).slice(1, -1);
    expect(lock.text).toContain("<D:locktype><D:write/></D:locktype><D:lockscope><D:exclusive/></D:lockscope>");

    expect((await dav("PUT", "/uploads/locked.txt", { body: "v2" })).status).toBe(423);
    expect((await dav("DELETE", "/uploads/locked.txt")).status).toBe(423);
    expect((await dav("PUT", "/uploads/locked.txt", { body: "v2", headers: { If: `(<${token}>)` } })).status).toBe(200);
    const discovery = await propfind("/uploads/locked.txt", "0");
    expect(discovery.text).toContain(`<D:locktoken><D:href>${token}</D:href></D:locktoken>`);
    expect(discovery.text).toContain("<D:owner>laptop</D:owner>");

    // Bob's tree has no such lock (nor file): his LOCK on the same path is his own new, empty file.
    expect((await propfind("/uploads/locked.txt", "0", bob)).status).toBe(404);
    expect((await dav("LOCK", "/uploads/locked.txt", { as: bob, body: lockBody })).status).toBe(201);
    expect((await dav("UNLOCK", "/uploads/locked.txt", { as: bob, headers: { "Lock-Token": `<${token}>` } })).status).toBe(409);

    expect((await dav("UNLOCK", "/uploads/locked.txt", { headers: { "Lock-Token": `<${token}>` } })).status).toBe(204);
    expect((await dav("PUT", "/uploads/locked.txt", { body: "v3" })).status).toBe(200);
    expect((await dav("GET", "/uploads/locked.txt")).text).toBe("v3");
  });
});

describe("preconditions (RFC 7232)", () => {
  const etagOf = async (path: string) => String((await dav("HEAD", path)).headers.etag);

  it("GET and HEAD send the ETag and Last-Modified PROPFIND reports, and a PUT changes the ETag", async () => {
    await dav("PUT", "/uploads/versioned.txt", { body: "v1" });
    const head = await dav("HEAD", "/uploads/versioned.txt");
    const get = await dav("GET", "/uploads/versioned.txt");
    const properties = (await propfind("/uploads/versioned.txt", "0")).text;
    expect(head.headers.etag).toMatch(/^"[0-9a-f-]{36}"$/);
    expect(get.headers.etag).toBe(head.headers.etag);
    expect(properties).toContain(`<D:getetag>${String(head.headers.etag)}</D:getetag>`);
    expect(properties).toContain(`<D:getlastmodified>${String(head.headers["last-modified"])}</D:getlastmodified>`);
    expect(get.headers["last-modified"]).toBe(head.headers["last-modified"]);

    expect((await dav("PUT", "/uploads/versioned.txt", { body: "v2" })).status).toBe(200);
    expect(await etagOf("/uploads/versioned.txt")).not.toBe(head.headers.etag);
  });

  it("GET with a matching If-None-Match, or not modified since, is a 304 with the ETag and no body", async () => {
    await dav("PUT", "/uploads/cached.txt", { body: "cached" });
    const { headers } = await dav("HEAD", "/uploads/cached.txt");
    const etag = String(headers.etag);
    const notModified = await dav("GET", "/uploads/cached.txt", { headers: { "If-None-Match": `W/"other", ${etag}` } });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.etag).toBe(headers.etag);
    expect(notModified.body.length).toBe(0);
    const since = await dav("GET", "/uploads/cached.txt", { headers: { "If-Modified-Since": String(headers["last-modified"]) } });
    expect(since.status).toBe(304);
    const changed = await dav("GET", "/uploads/cached.txt", { headers: { "If-None-Match": `"other"` } });
    expect(changed.status).toBe(200);
    expect(changed.text).toBe("cached");
    expect((await dav("HEAD", "/uploads/cached.txt", { headers: { "If-Match": `"other"` } })).status).toBe(412);
  });

  it("a failed precondition is a 412 that changes nothing, on PUT, DELETE, MOVE and COPY", async () => {
    await dav("PUT", "/uploads/guarded.txt", { body: "original" });
    const etag = await etagOf("/uploads/guarded.txt");
    const uploadsBefore = (await uploadsOf(alice)).length;
    const past = new Date(Date.now() - 24 * 3600 * 1000).toUTCString();
    const refused: [string, Record<string, string>, string?][] = [
      ["PUT", { "If-Match": `"not-the-etag"` }, "overwritten"],
      ["PUT", { "If-Match": `W/${etag}` }, "overwritten"], // If-Match compares strongly
      ["PUT", { "If-None-Match": "*" }, "overwritten"],
      ["PUT", { "If-None-Match": etag }, "overwritten"],
      ["PUT", { "If-Unmodified-Since": past }, "overwritten"],
      ["DELETE", { "If-Match": `"not-the-etag"` }],
      ["MOVE", { "If-Match": `"not-the-etag"`, Destination: "/uploads/guarded-moved.txt" }],
      ["COPY", { "If-None-Match": "*", Destination: "/uploads/guarded-copy.txt" }],
      ["PUT", { If: `(["not-the-etag"])` }, "overwritten"],
    ];
    for (const [method, headers, body] of refused) {
      expect((await dav(method, "/uploads/guarded.txt", { headers, body })).status, `${method} ${JSON.stringify(headers)}`).toBe(412);
    }
    expect((await dav("GET", "/uploads/guarded.txt")).text).toBe("original");
    expect(await etagOf("/uploads/guarded.txt")).toBe(etag);
    expect((await dav("HEAD", "/uploads/guarded-moved.txt")).status).toBe(404);
    expect((await dav("HEAD", "/uploads/guarded-copy.txt")).status).toBe(404);
    expect((await uploadsOf(alice)).length).toBe(uploadsBefore);

    // And when they hold, the request goes through.
    expect((await dav("PUT", "/uploads/guarded-new.txt", { headers: { "If-None-Match": "*" }, body: "new" })).status).toBe(201);
    expect((await dav("PUT", "/uploads/guarded.txt", { headers: { "If-Match": etag }, body: "second" })).status).toBe(200);
    const second = await etagOf("/uploads/guarded.txt");
    expect(
      (await dav("COPY", "/uploads/guarded.txt", { headers: { "If-Match": second, Destination: "/uploads/guarded-copy.txt" } })).status,
    ).toBe(201);
    expect((await dav("DELETE", "/uploads/guarded.txt", { headers: { "If-Match": second } })).status).toBe(200);
    expect((await dav("PUT", "/uploads/guarded.txt", { headers: { "If-Match": "*" }, body: "again" })).status).toBe(412);
  });

  it("of concurrent PUTs with the same If-Match, exactly one is stored: no lost update", async () => {
    await dav("PUT", "/uploads/contended.txt", { body: "base" });
    const etag = await etagOf("/uploads/contended.txt");
    const writers = Array.from({ length: 6 }, (_, index) => `writer ${index}`);
    const answers = await Promise.all(writers.map((body) => dav("PUT", "/uploads/contended.txt", { headers: { "If-Match": etag }, body })));
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([200, 412, 412, 412, 412, 412]);
    const winner = writers[answers.findIndex((answer) => answer.status === 200)];
    expect((await dav("GET", "/uploads/contended.txt")).text).toBe(winner);
  });
});

describe("Allow", () => {
  it("lists the methods a path answers, never POST", async () => {
    await dav("PUT", "/uploads/allowed.txt", { body: "x" });
    for (const [method, path] of [
      ["GET", "/uploads/allowed.txt"],
      ["HEAD", "/uploads/allowed.txt"],
      ["OPTIONS", "/uploads/allowed.txt"],
      ["OPTIONS", "/uploads/"],
      ["PROPFIND", "/uploads/"],
    ]) {
      const allow = String((await dav(method, path, { headers: { Depth: "0" } })).headers.allow).split(/\s*,\s*/);
      expect(allow, `${method} ${path}`).toContain("PROPFIND");
      expect(allow, `${method} ${path}`).not.toContain("POST");
    }
    const file = String((await dav("OPTIONS", "/uploads/allowed.txt")).headers.allow).split(/\s*,\s*/);
    expect(file).toEqual(expect.arrayContaining(["GET", "HEAD", "PUT", "DELETE", "LOCK"]));
  });
});

describe("the tree's invariants", () => {
  it("every file entry is an upload of its owner", async () => {
    const rows = await test.db
      .select({ entryOwner: webdavEntries.ownerId, uploadOwner: uploads.ownerId })
      .from(webdavEntries)
      .innerJoin(uploads, eq(uploads.id, webdavEntries.uploadId));
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.entryOwner).toBe(row.uploadOwner);
  });
});
