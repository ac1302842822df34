/**
 * The storage quota at the web's upload doors: the Jobs API (POST /api/v1/uploads, with a token) and the
 * page's own upload route (POST /api/uploads, with a session), through their real route handlers against a
 * real Postgres. Each person's usage row is set so that a few small files reach their quota (db/test/storage-quota.ts).
 */
import { randomBytes } from "node:crypto";
import { encode } from "next-auth/jwt";
import { describe, expect, it } from "vitest";
import { createApiToken } from "@/db/queries/api-tokens";
import { createTestUser } from "@/db/test/database";
import { useWebTestDatabase } from "@/server/test/web-test-database";
import { expectWithinQuota, leaveStorageRoom } from "@/db/test/storage-quota";
import { meSchema } from "@/lib/api/schemas";
import { TIER_LIMITS } from "@/lib/tiers";

const KiB = 1024;

const web = useWebTestDatabase();

async function newToken() {
  const user = await createTestUser(web.test.db);
  const created = await createApiToken(web.test.db, { ownerId: user.id, name: "quota" });
  if (!created.ok) throw new Error("no token");
  return { user, token: created.token };
}

/** A body sent without Content-Length, as a client streaming a file of unknown size does. */
function streamed(bytes: Buffer) {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (let offset = 0; offset < bytes.length; offset += 16 * KiB) controller.enqueue(bytes.subarray(offset, offset + 16 * KiB));
      controller.close();
    },
  });
}

async function apiUpload(token: string, name: string, body: Buffer | ReadableStream<Uint8Array>) {
  const { POST } = await import("@/app/api/v1/uploads/route");
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" };
  if (Buffer.isBuffer(body)) headers["content-length"] = String(body.length);
  const request = new Request(`http://127.0.0.1/api/v1/uploads?name=${name}`, {
    method: "POST",
    headers,
    body,
    duplex: "half",
  } as RequestInit);
  return POST(request, { params: Promise.resolve({}) });
}

async function expectQuotaRefusal(response: Response) {
  expect(response.status).toBe(413);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe("storage_quota_exceeded");
  expect(body.error.message).toMatch(
    /^Storage quota reached: a free account keeps up to 1\.00 GiB in 1,000 files, and .* are stored; .* would not fit/,
  );
  return body.error.message;
}

describe("the storage quota at the Jobs API and the page's upload route", () => {
  it("refuses an upload past the quota with 413 storage_quota_exceeded, declared or streamed, and keeps nothing", async () => {
    const { user, token } = await newToken();
    const left = await leaveStorageRoom(web.test.db, user.id, { bytes: 10 * KiB, files: 100 });

    const declared = await expectQuotaRefusal(await apiUpload(token, "declared.bin", randomBytes(20 * KiB)));
    expect(declared).toContain("1024.0 MiB in 900 files are stored; a file of 20.0 KiB would not fit");
    const undeclared = await expectQuotaRefusal(await apiUpload(token, "streamed.bin", streamed(randomBytes(20 * KiB))));
    expect(undeclared).toContain("a file of more than 10.0 KiB would not fit");
    expect((await apiUpload(token, "fits.bin", randomBytes(10 * KiB))).status).toBe(202);
    expect(await expectWithinQuota(web.test.db, left)).toEqual({ bytes: 10 * KiB, files: 1 });
  });

  it("a concurrent burst of uploads stores no more than the quota", async () => {
    const { user, token } = await newToken();
    const left = await leaveStorageRoom(web.test.db, user.id, { bytes: 5 * KiB, files: 100 });
    const responses = await Promise.all(Array.from({ length: 12 }, (_, i) => apiUpload(token, `burst-${i}.bin`, randomBytes(KiB))));

    expect(responses.map((response) => response.status).sort()).toEqual([...Array(5).fill(202), ...Array(7).fill(413)]);
    expect(await expectWithinQuota(web.test.db, left)).toEqual({ bytes: 5 * KiB, files: 5 });
  });

  it("a deleted file's room is free again; GET /me shows the usage and the quota", async () => {
    const { user, token } = await newToken();
    const left = await leaveStorageRoom(web.test.db, user.id, { bytes: 4 * KiB, files: 100 });
    const first = (await (await apiUpload(token, "first.bin", randomBytes(4 * KiB))).json()) as { id: string };
    await expectQuotaRefusal(await apiUpload(token, "second.bin", randomBytes(KiB)));

    const item = await import("@/app/api/v1/uploads/[id]/route");
    const deleted = await item.DELETE(
      new Request(`http://127.0.0.1/api/v1/uploads/${first.id}`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } }),
      { params: Promise.resolve({ id: first.id }) },
    );
    expect(deleted.status).toBe(204);
    expect((await apiUpload(token, "second.bin", randomBytes(KiB))).status).toBe(202);

    const { GET } = await import("@/app/api/v1/me/route");
    const me = await GET(new Request("http://127.0.0.1/api/v1/me", { headers: { authorization: `Bearer ${token}` } }), {
      params: Promise.resolve({}),
    });
    expect(me.status).toBe(200);
    const body = meSchema.parse(await me.json());
    expect(body.storage).toEqual({
      bytes: TIER_LIMITS.free.maxStorageBytes - 3 * KiB,
      maxBytes: TIER_LIMITS.free.maxStorageBytes,
      files: TIER_LIMITS.free.maxStorageFiles - 100 + 1,
      maxFiles: TIER_LIMITS.free.maxStorageFiles,
    });
    await expectWithinQuota(web.test.db, left);
  });

  it("the page's upload route refuses the same way", async () => {
    const user = await createTestUser(web.test.db);
    const left = await leaveStorageRoom(web.test.db, user.id, { bytes: KiB, files: 100 });
    const session = await encode({ token: { sub: user.id, email: user.email }, secret: web.authSecret, salt: "authjs.session-token" });
    const { POST } = await import("@/app/api/uploads/route");
    const upload = (bytes: Buffer) =>
      POST(
        new Request("http://127.0.0.1/api/uploads?name=page.bin", {
          method: "POST",
          headers: { cookie: `authjs.session-token=${session}`, "content-length": String(bytes.length) },
          body: new Uint8Array(bytes),
        }),
        { params: Promise.resolve({}) },
      );

    await expectQuotaRefusal(await upload(randomBytes(2 * KiB)));
    expect((await upload(randomBytes(KiB))).status).toBe(201);
    expect(await expectWithinQuota(web.test.db, left)).toEqual({ bytes: KiB, files: 1 });
  });
});
