/**
 * The route guards through real route handlers, against a real Postgres: who gets in, what a
 * param that does not parse answers, and what an unreachable database answers.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { encode } from "next-auth/jwt";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createApiToken } from "@/db/queries/api-tokens";
import { users } from "@/db/schema";
import { createTestDatabase, createTestUser, type TestDatabase } from "@/db/test/database";

/** The web's own client (db/index.ts), kept on globalThis. */
type WebDatabase = { $client: { end: (options: { timeout: number }) => Promise<void> } };

let test: TestDatabase;
const AUTH_SECRET = randomBytes(32).toString("base64url");
const METRICS_TOKEN = randomBytes(16).toString("hex");

beforeAll(async () => {
  test = await createTestDatabase();
  Object.assign(process.env, { DATABASE_URL: test.url, AUTH_SECRET, METRICS_TOKEN });
});
afterAll(async () => {
  await (globalThis as { longrunDb?: WebDatabase }).longrunDb?.$client.end({ timeout: 0 });
  await test?.drop();
});

async function sessionCookie(user: { id: string; email: string }) {
  const token = await encode({ token: { sub: user.id, email: user.email }, secret: AUTH_SECRET, salt: "authjs.session-token" });
  return `authjs.session-token=${token}`;
}

const get = (path: string, headers: Record<string, string> = {}) => new Request(`http://127.0.0.1${path}`, { headers });
const params = (value: Record<string, string>) => ({ params: Promise.resolve(value) });

describe("withUser", () => {
  it("answers 401 without a session, and the route's own 404 for an id that is not one, before any query", async () => {
    const { GET } = await import("@/app/api/results/[id]/log/route");
    const user = await createTestUser(test.db);
    const unsigned = await GET(get("/api/results/x/log"), params({ id: randomUUID() }));
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toEqual({ error: { code: "unauthorized", message: "Sign in to continue" } });

    const cookie = await sessionCookie(user);
    for (const id of ["not-an-id", `${randomUUID()}\u0000`, "", `{${randomUUID()}}`]) {
      const response = await GET(get("/api/results/x/log", { cookie }), params({ id }));
      expect(response.status, id).toBe(404);
      expect(await response.json()).toEqual({ error: { code: "not_found", message: "No such render" } });
    }
    // A well-formed id reaches the query: nobody's render is missing the same way.
    const missing = await GET(get("/api/results/x/log", { cookie }), params({ id: randomUUID() }));
    expect(await missing.json()).toEqual({ error: { code: "not_found", message: "No such render" } });
  });
});

describe("withAdmin", () => {
  it("answers a signed-in non-admin with the 404 of a missing route, and an admin with the route", async () => {
    const { GET } = await import("@/app/api/admin/usage/route");
    const person = await createTestUser(test.db);
    const asPerson = await GET(get("/api/admin/usage", { cookie: await sessionCookie(person) }), params({}));
    expect(asPerson.status).toBe(404);
    expect(await asPerson.json()).toEqual({ error: { code: "not_found", message: "Not found" } });

    await test.db.update(users).set({ role: "admin" }).where(eq(users.id, person.id));
    const asAdmin = await GET(get("/api/admin/usage", { cookie: await sessionCookie(person) }), params({}));
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.headers.get("content-type")).toBe("text/csv; charset=utf-8");
  });
});

describe("withApiToken", () => {
  it("answers an id that is not one with the route's 404, and still says how many requests are left", async () => {
    const { GET } = await import("@/app/api/v1/renders/[id]/route");
    const owner = await createTestUser(test.db);
    const created = await createApiToken(test.db, { ownerId: owner.id, name: "guards test" });
    if (!created.ok) throw new Error("no token");
    const response = await GET(get("/api/v1/renders/x", { authorization: `Bearer ${created.token}` }), params({ id: "42" }));
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: "not_found", message: "No such render" } });
    expect(response.headers.get("RateLimit-Remaining")).toMatch(/^\d+$/);
  });
});

describe("withMetricsToken", () => {
  it("does not exist without the scraper's token, and answers with it", async () => {
    const { GET } = await import("@/app/api/metrics/route");
    for (const authorization of [undefined, "Bearer wrong", `Bearer ${METRICS_TOKEN}x`, `Basic ${METRICS_TOKEN}`]) {
      const response = await GET(get("/api/metrics", authorization ? { authorization } : {}), params({}));
      expect(response.status, authorization).toBe(404);
    }
    const response = await GET(get("/api/metrics", { authorization: `Bearer ${METRICS_TOKEN}` }), params({}));
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("longrun_workers");
  });

  it("answers 503 with Retry-After, not a 500, while the database cannot be reached", async () => {
    // A fresh web (its own db client) whose database is a port nobody listens on.
    vi.resetModules();
    const globals = globalThis as { longrunDb?: unknown };
    const working = globals.longrunDb;
    globals.longrunDb = undefined;
    const url = process.env.DATABASE_URL;
    process.env.DATABASE_URL = "postgres://postgres@127.0.0.1:1/unreachable";
    try {
      const { GET } = await import("@/app/api/metrics/route");
      const response = await GET(get("/api/metrics", { authorization: `Bearer ${METRICS_TOKEN}` }), params({}));
      expect(response.status).toBe(503);
      expect(response.headers.get("Retry-After")).toBe("5");
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("unavailable");
    } finally {
      // Without a timeout, end() waits for the client's reconnection attempts.
      await (globals.longrunDb as WebDatabase | undefined)?.$client.end({ timeout: 0 });
      globals.longrunDb = working;
      process.env.DATABASE_URL = url;
    }
  });
});
