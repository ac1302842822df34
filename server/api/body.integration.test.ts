/**
 * Oversized request bodies through the real route handlers, against a real Postgres: a JSON
 * route and next-auth's sign-in callback answer 413 before parsing, whether the size is
 * declared (Content-Length) or only found while reading (a chunked body without one), and
 * nothing is written.
 */
import { randomBytes } from "node:crypto";
import { count, eq } from "drizzle-orm";
import { NextRequest } from "next/server";
import { describe, expect, it } from "vitest";
import { createApiToken } from "@/db/queries/api-tokens";
import { configurations, signInFailures } from "@/db/schema";
import { createTestUser } from "@/db/test/database";
import { useWebTestDatabase } from "@/server/test/web-test-database";
import { RENDER_REQUEST_MAX_BYTES } from "@/lib/api/schemas";
import { readBodyWithin } from "./body";

const web = useWebTestDatabase();

/** A body that never ends (64 KiB chunks for as long as it is read), and whether its reader gave up on it. */
function endlessBody(chunk: string) {
  const bytes = new TextEncoder().encode(chunk);
  const state = { isCancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull: (controller) => controller.enqueue(bytes),
    cancel: () => {
      state.isCancelled = true;
    },
  });
  return { stream, state };
}

/** Each way of sending more than `maxBytes`: declared by Content-Length, or chunked without one (endless). */
function oversizedBodies(maxBytes: number, start: string) {
  const padding = "x".repeat(64 * 1024);
  return [
    { how: "with Content-Length", body: `${start}${"x".repeat(maxBytes)}`, contentLength: String(maxBytes + start.length) },
    { how: "chunked, without Content-Length", body: endlessBody(padding), contentLength: null },
    { how: "with a Content-Length that lies", body: endlessBody(padding), contentLength: "10" },
  ] as const;
}

function post(path: string, sent: ReturnType<typeof oversizedBodies>[number], headers: Record<string, string>) {
  const all = new Headers(headers);
  if (sent.contentLength) all.set("content-length", sent.contentLength);
  const body = typeof sent.body === "string" ? sent.body : sent.body.stream;
  return new NextRequest(`http://127.0.0.1${path}`, { method: "POST", headers: all, body, duplex: "half" });
}

async function expectTooLarge(response: Response, maxBytes: number) {
  expect(response.status).toBe(413);
  expect(await response.json()).toEqual({
    error: { code: "body_too_large", message: `The request body may be at most ${maxBytes} bytes` },
  });
}

describe("readBodyWithin", () => {
  it("stops reading an endless body once it passes the limit", async () => {
    const { stream, state } = endlessBody("y".repeat(1000));
    const result = await readBodyWithin(
      new Request("http://127.0.0.1/", { method: "POST", body: stream, duplex: "half" } as RequestInit),
      10_000,
    );
    expect(result.ok).toBe(false);
    expect(state.isCancelled).toBe(true);
  });

  it("returns a body within the limit byte for byte", async () => {
    const sent = randomBytes(5000);
    const result = await readBodyWithin(new Request("http://127.0.0.1/", { method: "POST", body: sent }), 5000);
    expect(result).toEqual({ ok: true, bytes: new Uint8Array(sent) });
  });
});

describe("POST /api/v1/renders", () => {
  it("answers 413 to a body past its limit, however it is sent, and creates nothing", async () => {
    const { POST } = await import("@/app/api/v1/renders/route");
    const owner = await createTestUser(web.test.db);
    const created = await createApiToken(web.test.db, { ownerId: owner.id, name: "bodies test" });
    if (!created.ok) throw new Error("no token");
    const headers = { authorization: `Bearer ${created.token}`, "content-type": "application/json" };
    const context = { params: Promise.resolve({}) };

    for (const sent of oversizedBodies(RENDER_REQUEST_MAX_BYTES, '{"re":0,"im":0,"name":"')) {
      await expectTooLarge(await POST(post("/api/v1/renders", sent, headers), context), RENDER_REQUEST_MAX_BYTES);
      if (typeof sent.body !== "string") expect(sent.body.state.isCancelled, sent.how).toBe(true);
    }
    const [saved] = await web.test.db.select({ n: count() }).from(configurations).where(eq(configurations.ownerId, owner.id));
    expect(saved.n).toBe(0);

    // The same route takes a request of ordinary size.
    const ordinary = await POST(
      new NextRequest("http://127.0.0.1/api/v1/renders", { method: "POST", headers, body: '{"re":0,"im":0}' }),
      context,
    );
    expect(ordinary.status).toBe(202);
  });
});

describe("POST /api/auth/callback/credentials", () => {
  it("answers 413 to a body past its limit before next-auth reads it, and records no attempt", async () => {
    const { POST } = await import("@/app/api/auth/[...nextauth]/route");
    const headers = { "content-type": "application/x-www-form-urlencoded" };
    const limit = 16 * 1024;
    for (const sent of oversizedBodies(limit, "email=a%40example.test&password=")) {
      await expectTooLarge(await POST(post("/api/auth/callback/credentials", sent, headers)), limit);
      if (typeof sent.body !== "string") expect(sent.body.state.isCancelled, sent.how).toBe(true);
    }
    const [attempts] = await web.test.db.select({ n: count() }).from(signInFailures);
    expect(attempts.n).toBe(0);

    // A form of ordinary size reaches next-auth (which redirects it: it carries no CSRF token).
    const ordinary = await POST(
      new NextRequest("http://127.0.0.1/api/auth/callback/credentials", {
        method: "POST",
        headers,
        body: "email=a%40example.test&password=guess",
      }),
    );
    expect(ordinary.status).toBe(302);
  });
});
