/**
 * The route guards through real route handlers, against a real Postgres: who gets in, what a
 * param that does not parse answers, and what an unreachable database answers.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { encode } from "next-auth/jwt";
import { describe, expect, it, vi } from "vitest";
import { createApiToken } from "@/db/queries/api-tokens";
import { uploads, users } from "@/db/schema";
import { createTestUser } from "@/db/test/database";
import { useWebTestDatabase, type WebDatabase } from "@/server/test/web-test-database";
import { TIER_LIMITS } from "@/lib/tiers";

const METRICS_TOKEN = randomBytes(16).toString("hex");

const web = useWebTestDatabase({ METRICS_TOKEN });

async function sessionCookie(user: { id: string; email: string }) {
  const token = await encode({ token: { sub: user.id, email: user.email }, secret: web.authSecret, salt: "authjs.session-token" });
  return `authjs.session-token=${token}`;
}

const get = (path: string, headers: Record<string, string> = {}) => new Request(`http://127.0.0.1${path}`, { headers });

async function tokenOf(ownerId: string, name: string) {
  const created = await createApiToken(web.test.db, { ownerId, name });
  if (!created.ok) throw new Error("no token");
  return created.token;
}
const params = (value: Record<string, string>) => ({ params: Promise.resolve(value) });

describe("withUser", () => {
  it("answers 401 without a session, and the route's own 404 for an id that is not one, before any query", async () => {
    const { GET } = await import("@/app/api/results/[id]/log/route");
    const user = await createTestUser(web.test.db);
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
    const person = await createTestUser(web.test.db);
    const asPerson = await GET(get("/api/admin/usage", { cookie: await sessionCookie(person) }), params({}));
    expect(asPerson.status).toBe(404);
    expect(await asPerson.json()).toEqual({ error: { code: "not_found", message: "Not found" } });

    await web.test.db.update(users).set({ role: "admin" }).where(eq(users.id, person.id));
    const asAdmin = await GET(get("/api/admin/usage", { cookie: await sessionCookie(person) }), params({}));
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.headers.get("content-type")).toBe("text/csv; charset=utf-8");
  });
});

describe("withApiToken", () => {
  it("answers an id that is not one with the route's 404, and still says how many requests are left", async () => {
    const { GET } = await import("@/app/api/v1/renders/[id]/route");
    const owner = await createTestUser(web.test.db);
    const created = await createApiToken(web.test.db, { ownerId: owner.id, name: "guards test" });
    if (!created.ok) throw new Error("no token");
    const response = await GET(get("/api/v1/renders/x", { authorization: `Bearer ${created.token}` }), params({ id: "42" }));
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: "not_found", message: "No such render" } });
    expect(response.headers.get("RateLimit-Remaining")).toMatch(/^\d+$/);
  });
});

describe("the per-person request budget (withApiToken and withRateLimitedUser)", () => {
  it("is one per person across all their tokens and the page's upload route: then 429 with Retry-After, and nobody else is refused", async () => {
    const { GET: me } = await import("@/app/api/v1/me/route");
    const { POST: upload } = await import("@/app/api/uploads/route");
    const person = await createTestUser(web.test.db);
    const other = await createTestUser(web.test.db);
    const tokens = await Promise.all([1, 2, 3].map((n) => tokenOf(person.id, `token ${n}`)));
    const limit = TIER_LIMITS.free.requestsPerMinute.api;
    const asToken = (token: string) => get("/api/v1/me", { authorization: `Bearer ${token}` });
    const uploadAs = async (user: { id: string; email: string }) =>
      upload(
        new Request("http://127.0.0.1/api/uploads?name=budget.txt", {
          method: "POST",
          headers: { cookie: await sessionCookie(user), "content-type": "text/plain" },
          body: "within budget",
        }),
        params({}),
      );

    // One upload on the page, then the rest of the minute's budget spread over three tokens.
    const uploaded = await uploadAs(person);
    expect(uploaded.status).toBe(201);
    expect(uploaded.headers.get("RateLimit-Remaining")).toBe(String(limit - 1));
    for (let sent = 1; sent < limit; sent++) {
      const response = await me(asToken(tokens[sent % tokens.length]), params({}));
      expect(response.status).toBe(200);
      expect(response.headers.get("RateLimit-Remaining")).toBe(String(limit - sent - 1));
    }

    // Twenty tokens would not be twenty budgets: every token, and the page's uploads, are refused now.
    for (const token of tokens) {
      const refused = await me(asToken(token), params({}));
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
      expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
      expect(Number(refused.headers.get("Retry-After"))).toBeLessThanOrEqual(60);
      expect(refused.headers.get("RateLimit-Remaining")).toBe("0");
    }
    const refusedUpload = await uploadAs(person);
    expect(refusedUpload.status).toBe(429);
    expect(await refusedUpload.json()).toEqual({
      error: {
        code: "rate_limited",
        message: expect.stringMatching(/^A free account may make 120 uploads and API requests a minute; try again in \d+ s$/),
      },
    });
    expect(await web.test.db.select({ id: uploads.id }).from(uploads).where(eq(uploads.ownerId, person.id))).toHaveLength(1);

    // Someone else's budget is their own.
    expect((await me(asToken(await tokenOf(other.id, "other")), params({}))).status).toBe(200);
    expect((await uploadAs(other)).status).toBe(201);
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
