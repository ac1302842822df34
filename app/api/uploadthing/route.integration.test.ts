/**
 * Contract test of the UploadThing path. Their servers are unreachable from
 * here, so a local stand-in plays them (jobs/test/uploadthing-stand-in.ts);
 * everything else is real: our route handler and file router served over
 * HTTP, a signed session, Postgres, and a worker that fetches the bytes back.
 */
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { eq } from "drizzle-orm";
import { encode } from "next-auth/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteUpload, getUpload } from "@/db/queries/uploads";
import { uploads } from "@/db/schema";
import { createTestDatabase, createTestUser, type TestDatabase } from "@/db/test/database";
import { expectWithinQuota, leaveStorageRoom } from "@/db/test/storage-quota";
import { waitFor } from "@/db/test/wait-for";
import { makeUploadFixtures } from "@/jobs/test/upload-fixtures";
import { deliverCallback, fakeUploadThingToken, sign, startUploadThingStandIn } from "@/jobs/test/uploadthing-stand-in";
import { startWorker, type RunningWorker } from "@/worker/start-worker";

let test: TestDatabase;
let worker: RunningWorker;
let standIn: Awaited<ReturnType<typeof startUploadThingStandIn>>;
let app: http.Server;
let routeUrl: string;
const credentials = fakeUploadThingToken();
const AUTH_SECRET = randomBytes(32).toString("base64url");

beforeAll(async () => {
  test = await createTestDatabase();
  standIn = await startUploadThingStandIn(credentials);
  app = http.createServer(serveRoute);
  app.listen(0, "127.0.0.1");
  await once(app, "listening");
  routeUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/api/uploadthing`;
  Object.assign(process.env, {
    DATABASE_URL: test.url,
    AUTH_SECRET,
    UPLOADTHING_TOKEN: credentials.token,
    UPLOADTHING_INGEST_URL: standIn.url,
    UPLOADTHING_API_URL: standIn.url,
    UPLOADTHING_CALLBACK_URL: routeUrl,
    UPLOADTHING_IS_DEV: "false",
    UPLOADTHING_LOG_LEVEL: "None",
  });
  worker = await startWorker({ databaseUrl: test.url, concurrency: 2, renderThreads: 1, log: () => {} });
});
afterAll(async () => {
  await worker?.stop();
  app?.close();
  await standIn?.close();
  await test?.drop();
});

/** Next's part: our route module's GET and POST, behind a real HTTP server the stand-in can call back. */
function serveRoute(request: http.IncomingMessage, response: http.ServerResponse) {
  answerWithRoute(request, response).catch((error: Error) => {
    response.writeHead(500, { "content-type": "text/plain" });
    response.end(error.stack);
  });
}

async function answerWithRoute(request: http.IncomingMessage, response: http.ServerResponse) {
  const route = await import("./route");
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  const headers = new Headers(Object.entries(request.headers).map(([name, value]): [string, string] => [name, String(value)]));
  const webRequest = new Request(new URL(request.url!, routeUrl), {
    method: request.method,
    headers,
    body: request.method === "GET" ? undefined : Buffer.concat(parts),
  });
  const answer = await (request.method === "GET" ? route.GET : route.POST)(webRequest as never);
  response.writeHead(answer.status, Object.fromEntries(answer.headers));
  response.end(Buffer.from(await answer.arrayBuffer()));
}

async function sessionCookie(user: { id: string; email: string }) {
  const token = await encode({ token: { sub: user.id, email: user.email }, secret: AUTH_SECRET, salt: "authjs.session-token" });
  return `authjs.session-token=${token}`;
}

/** What @uploadthing/react's uploadFiles sends first: the files it wants to upload. */
function requestUpload(files: { name: string; size: number; type: string }[], cookie?: string) {
  return fetch(`${routeUrl}?actionType=upload&slug=files`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-uploadthing-package": "@uploadthing/react",
      "x-uploadthing-version": "7.7.4",
      ...(cookie ? { cookie } : {}),
    },
    body: JSON.stringify({ input: null, files: files.map((file) => ({ ...file, lastModified: Date.now() })) }),
  });
}

/** Then, for each file, the bytes to the presigned ingest URL (as multipart, like their client). */
function putToIngest(url: string, bytes: Buffer, name: string, type: string) {
  const form = new FormData();
  form.append("file", new Blob([new Uint8Array(bytes)], { type }), name);
  return fetch(url, { method: "PUT", body: form, headers: { Range: "bytes=0-" } });
}

describe("uploads through UploadThing (against a local stand-in of their servers)", () => {
  it("accepts the completion callback in one transaction; the worker processes the bytes from UploadThing; delete removes them there", async () => {
    const { png } = await makeUploadFixtures();
    const user = await createTestUser(test.db);
    const presigned = await requestUpload([{ name: png.name, size: png.bytes.length, type: "image/png" }], await sessionCookie(user));
    expect(presigned.status).toBe(200);
    const [target] = (await presigned.json()) as { url: string; key: string }[];
    // Our middleware told UploadThing whose file it is.
    expect(standIn.calls.find((call) => call.path === "/route-metadata")?.body).toMatchObject({
      fileKeys: [target.key],
      metadata: { userId: user.id },
    });

    const put = await putToIngest(target.url, png.bytes, png.name, "image/png");
    expect(put.status).toBe(200);
    const { serverData } = (await put.json()) as { serverData: { uploadId: string } };

    const [row] = await test.db.select().from(uploads).where(eq(uploads.id, serverData.uploadId));
    expect(row).toMatchObject({
      ownerId: user.id,
      name: png.name,
      size: png.bytes.length,
      storage: "uploadthing",
      storageKey: target.key,
      storageUrl: `${standIn.url}/f/${target.key}`,
    });
    const view = await waitFor(
      () => getUpload(test.db, { id: row.id, ownerId: user.id }),
      (upload) => upload?.isProcessed === true,
    );
    if (!view) throw new Error("the upload's row is gone");
    expect(view).toMatchObject({
      md5: createHash("md5").update(png.bytes).digest("hex"),
      detectedType: "image/png",
      imageWidth: 640,
      imageHeight: 480,
    });
    expect(view.steps.map((step) => [step.step, step.status])).toEqual([
      ["checksum", "succeeded"],
      ["type", "succeeded"],
      ["thumbnail", "succeeded"],
    ]);

    // UploadThing retries callbacks: the same file accepted again is the same upload.
    const payload = JSON.stringify({
      status: "uploaded",
      metadata: { userId: user.id },
      origin: standIn.url,
      file: {
        name: png.name,
        size: png.bytes.length,
        type: "image/png",
        customId: null,
        key: target.key,
        url: row.storageUrl,
        appUrl: row.storageUrl,
        ufsUrl: row.storageUrl,
        fileHash: "x",
      },
    });
    expect((await deliverCallback(`${routeUrl}?slug=files`, payload, sign(payload, credentials.apiKey))).status).toBe(200);
    expect(await test.db.select().from(uploads).where(eq(uploads.ownerId, user.id))).toHaveLength(1);

    const { deleteUploadThingFile } = await import("@/db/storage/uploadthing");
    const deleted = await deleteUpload(test.db, { id: row.id, ownerId: user.id });
    await deleteUploadThingFile(deleted!.storageKey);
    expect(standIn.calls.at(-1)).toMatchObject({ path: "/v6/deleteFiles", body: { fileKeys: [target.key] } });
    expect(standIn.files.has(target.key)).toBe(false);
  });

  it("refuses upload requests without a session, and callbacks not signed with our key", async () => {
    const before = standIn.calls.length;
    const anonymous = await requestUpload([{ name: "a.txt", size: 3, type: "text/plain" }]);
    expect(anonymous.status).toBe(403);
    expect(standIn.calls.slice(before).some((call) => call.path === "/route-metadata")).toBe(false);

    const user = await createTestUser(test.db);
    const payload = JSON.stringify({
      status: "uploaded",
      metadata: { userId: user.id },
      origin: standIn.url,
      file: {
        name: "forged.txt",
        size: 3,
        type: "text/plain",
        customId: null,
        key: "forged",
        url: "u",
        appUrl: "u",
        ufsUrl: `${standIn.url}/f/forged`,
        fileHash: "x",
      },
    });
    const forged = await deliverCallback(`${routeUrl}?slug=files`, payload, sign(payload, "sk_not_our_key"));
    expect(forged.status).toBe(400);
    expect(await test.db.select().from(uploads).where(eq(uploads.ownerId, user.id))).toHaveLength(0);
  });

  it("refuses files past the storage quota before any byte travels (413), and on completion when others took the room", async () => {
    const user = await createTestUser(test.db);
    const cookie = await sessionCookie(user);
    await leaveStorageRoom(test.db, user.id, { bytes: 100, files: 10 });
    const before = standIn.calls.length;
    const refused = await requestUpload(
      [
        { name: "a.txt", size: 60, type: "text/plain" },
        { name: "b.txt", size: 60, type: "text/plain" },
      ],
      cookie,
    );
    expect(refused.status).toBe(413);
    expect(JSON.stringify(await refused.json())).toContain("2 more files (120 B) would not fit");
    expect(standIn.calls.slice(before).some((call) => call.path === "/route-metadata")).toBe(false);

    // Room when asked, none when the bytes arrive (another upload took it): their copy is deleted, the browser told why.
    const presigned = await requestUpload([{ name: "late.txt", size: 60, type: "text/plain" }], cookie);
    expect(presigned.status).toBe(200);
    const [target] = (await presigned.json()) as { url: string; key: string }[];
    const full = await leaveStorageRoom(test.db, user.id, { bytes: 0, files: 10 });
    const put = await putToIngest(target.url, Buffer.alloc(60, "x"), "late.txt", "text/plain");
    expect(put.status).toBe(200);
    const { serverData } = (await put.json()) as { serverData: { uploadId: string | null; error: string | null } };
    expect(serverData.uploadId).toBeNull();
    expect(serverData.error).toMatch(/^Storage quota reached: .* a file of 60 B would not fit/);
    expect(standIn.files.has(target.key)).toBe(false);
    expect(standIn.calls).toContainEqual(expect.objectContaining({ path: "/v6/deleteFiles", body: { fileKeys: [target.key] } }));
    expect(await expectWithinQuota(test.db, full)).toEqual({ bytes: 0, files: 0 });
  });
});
