/**
 * Sign-out ends the session: a session cookie copied before sign-out, replayed after it,
 * is refused by route handlers and by next-auth's own session read (what pages use), through
 * the real next-auth routes against a real Postgres.
 */
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { encode } from "next-auth/jwt";
import { NextRequest } from "next/server";
import { describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { createTestUser } from "@/db/test/database";
import { useWebTestDatabase } from "@/server/test/web-test-database";

const web = useWebTestDatabase();

/** A session cookie as next-auth issues one at sign-in, with the person's session generation then. */
async function sessionCookie(user: { id: string; email: string }, sessionGeneration: number) {
  const token = await encode({
    token: { sub: user.id, email: user.email, sessionGeneration },
    secret: web.authSecret,
    salt: "authjs.session-token",
  });
  return `authjs.session-token=${token}`;
}

const request = (path: string, init: { cookie: string; method?: string; body?: string }) =>
  new NextRequest(`http://127.0.0.1${path}`, {
    method: init.method ?? "GET",
    headers: { cookie: init.cookie, ...(init.body ? { "content-type": "application/x-www-form-urlencoded" } : {}) },
    body: init.body,
  });

/** Whether a route handler behind withUser takes the cookie: 404 for a render nobody has, 401 without a session. */
async function routeHandlerStatus(cookie: string) {
  const { GET } = await import("@/app/api/results/[id]/log/route");
  const id = randomUUID();
  return (await GET(request(`/api/results/${id}/log`, { cookie }), { params: Promise.resolve({ id }) })).status;
}

/** Who next-auth's session read (auth(), as pages and server actions call it) says the cookie belongs to. */
async function sessionEmail(cookie: string) {
  const { GET } = await import("@/app/api/auth/[...nextauth]/route");
  const session = (await (await GET(request("/api/auth/session", { cookie }))).json()) as { user?: { email: string } } | null;
  return session?.user?.email ?? null;
}

/** Signs out through next-auth's own route, as the sign-out button's action does. */
async function signOut(cookie: string) {
  const { GET, POST } = await import("@/app/api/auth/[...nextauth]/route");
  const csrf = await GET(request("/api/auth/csrf", { cookie }));
  const csrfCookie = csrf.headers
    .getSetCookie()
    .find((value) => value.startsWith("authjs.csrf-token="))!
    .split(";")[0];
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const response = await POST(
    request("/api/auth/signout", { cookie: `${cookie}; ${csrfCookie}`, method: "POST", body: `csrfToken=${csrfToken}` }),
  );
  expect(response.status).toBe(302);
}

describe("sign-out", () => {
  it("ends the session: its cookie copied before, replayed after, is refused everywhere; a new sign-in works", async () => {
    const person = await createTestUser(web.test.db);
    const copied = await sessionCookie(person, 0);
    const otherDevice = await sessionCookie(person, 0);
    expect(await routeHandlerStatus(copied)).toBe(404);
    expect(await sessionEmail(copied)).toBe(person.email);

    await signOut(copied);

    expect(await routeHandlerStatus(copied)).toBe(401);
    expect(await sessionEmail(copied)).toBeNull();
    // Every session of the person ends, not only the one that signed out.
    expect(await routeHandlerStatus(otherDevice)).toBe(401);
    const [row] = await web.test.db.select({ sessionGeneration: users.sessionGeneration }).from(users).where(eq(users.id, person.id));
    expect(row.sessionGeneration).toBe(1);

    const signedInAgain = await sessionCookie(person, 1);
    expect(await routeHandlerStatus(signedInAgain)).toBe(404);
    expect(await sessionEmail(signedInAgain)).toBe(person.email);
  });

  it("of one person leaves everyone else's sessions alone", async () => {
    const [leaving, staying] = [await createTestUser(web.test.db), await createTestUser(web.test.db)];
    const stayingCookie = await sessionCookie(staying, 0);
    await signOut(await sessionCookie(leaving, 0));
    expect(await routeHandlerStatus(stayingCookie)).toBe(404);
    expect(await sessionEmail(stayingCookie)).toBe(staying.email);
  });
});
