import { timingSafeEqual } from "node:crypto";
import { getToken } from "next-auth/jwt";
import { notFound as notFoundPage, redirect } from "next/navigation";
import { cache } from "react";
import type { z } from "zod";
import { db } from "@/db";
import { authenticateApiToken } from "@/db/queries/api-tokens";
import { countRequest } from "@/db/queries/rate-windows";
import { getUserRole, type Role } from "@/db/queries/users";
import { bearerToken } from "@/lib/api-tokens";
import { getWebEnv } from "@/lib/env";
import { errorResponse, isDatabaseUnavailable, notFound } from "@/lib/errors";
import { decideRate } from "@/lib/rate-limits";
import { auth } from "./index";
import { decodedSessions, isCurrentSession, SESSION_CACHE_MS } from "./sessions";

export type SessionUser = { id: string; email: string };
export type SignedInUser = SessionUser & { role: Role };

/**
 * For pages, layouts and server actions: the signed-in user with their role, or a redirect
 * to sign in. Once per request (a layout and its page share it).
 */
export const requireUser = cache(async (): Promise<SignedInUser> => {
  const session = await auth();
  if (!session?.user?.id) redirect("/sign-in");
  // An account deleted under a live session is an ordinary user with nothing left.
  const role = (await getUserRole(db, { userId: session.user.id })) ?? "user";
  return { id: session.user.id, email: session.user.email, role };
});

/** For admin pages: the signed-in admin; anyone else sees the same 404 as for a missing page. */
export async function requireAdmin(): Promise<SignedInUser> {
  const user = await requireUser();
  if (user.role !== "admin") notFoundPage();
  return user;
}

/** For pages: their params checked against `schema`; anything else is the 404 page. */
export async function requireParams<S extends z.ZodType>(params: Promise<unknown>, schema: S): Promise<z.output<S>> {
  const parsed = schema.safeParse(await params);
  if (!parsed.success) notFoundPage();
  return parsed.data;
}

/**
 * The session of a route handler's request, decoded from its cookie only.
 * auth() would also re-issue the cookie (a second encryption) on every call:
 * a third of a status poll's time. Pages keep auth(), which keeps sessions rolling.
 * A decoded session is checked against its person's session generation and then
 * cached (sessions.ts) until it expires, at most a minute.
 */
const SESSION_CACHE_SIZE = 10_000;

export async function getRequestUser(request: Request): Promise<SessionUser | null> {
  const protocol = request.headers.get("x-forwarded-proto") ?? new URL(request.url).protocol.replace(":", "");
  const secureCookie = protocol === "https";
  const raw = await getToken({ req: request, secret: getWebEnv().AUTH_SECRET, secureCookie, raw: true });
  if (!raw) return null;
  const cached = decodedSessions.get(raw);
  if (cached && cached.validUntil > Date.now()) return cached.user;

  const token = await getToken({ req: request, secret: getWebEnv().AUTH_SECRET, secureCookie });
  if (!token?.sub || !token.email || !(await isCurrentSession(token))) return null;
  const user = { id: token.sub, email: token.email };
  if (decodedSessions.size >= SESSION_CACHE_SIZE) decodedSessions.clear();
  const expiresAt = typeof token.exp === "number" ? token.exp * 1000 : 0;
  decodedSessions.set(raw, { user, validUntil: Math.min(Date.now() + SESSION_CACHE_MS, expiresAt) });
  return user;
}

/**
 * Route handlers go through one of the guards below: each authenticates the request its own way,
 * parses the route's params with a zod schema (a param that does not parse is the route's 404,
 * as for a missing thing), runs the handler, and answers anything thrown safely.
 */
type RouteOptions<S extends z.ZodType> = { params: S; notFound: string };
type Handler<U, P> = (request: Request, context: { user: U; params: P }) => Promise<Response>;
type Guard<U> = {
  <S extends z.ZodType>(options: RouteOptions<S>, handler: Handler<U, z.output<S>>): RouteHandler;
  (handler: Handler<U, Record<string, never>>): RouteHandler;
};
type RouteHandler = (request: Request, context: { params: Promise<unknown> }) => Promise<Response>;
/** Who the request is from, with headers for every answer; or the refusal. */
type Authenticate<U> = (request: Request) => Promise<{ user: U; headers?: Record<string, string> } | Response>;

function guard<U>(authenticate: Authenticate<U>): Guard<U> {
  return ((...args: [RouteOptions<z.ZodType>, Handler<U, unknown>] | [Handler<U, unknown>]) => {
    const [options, handler] = args.length === 2 ? args : [undefined, args[0]];
    return async (request: Request, context: { params: Promise<unknown> }) =>
      answerSafely(request, async () => {
        const caller = await authenticate(request);
        if (caller instanceof Response) return caller;
        const respond = async () => {
          if (!options) return handler(request, { user: caller.user, params: {} });
          const params = options.params.safeParse(await context.params);
          return params.success ? handler(request, { user: caller.user, params: params.data }) : notFound(options.notFound);
        };
        // Caught here, so a failure's answer carries the caller's headers too (the rate limit's).
        const response = await respond().catch((error: unknown) => answerError(request, error));
        for (const [name, value] of Object.entries(caller.headers ?? {})) response.headers.set(name, value);
        return response;
      });
  }) as Guard<U>;
}

const signInToContinue = () => errorResponse("unauthorized", "Sign in to continue");

/** A browser session (cookie): a 401 JSON error without one. */
export const withUser = guard<SessionUser>(async (request) => {
  const user = await getRequestUser(request);
  return user ? { user } : signInToContinue();
});

/** A browser session of an admin; anyone else gets the same 404 as for a missing route. */
export const withAdmin = guard<SessionUser>(async (request) => {
  const user = await getRequestUser(request);
  if (!user) return signInToContinue();
  return (await getUserRole(db, { userId: user.id })) === "admin" ? { user } : notFound();
});

/**
 * A browser session, for routes that accept work (the page's upload route): each request counts
 * against its person's requests a minute, the same budget as the Jobs API's (429 with Retry-After
 * past it), so the page's routes are no way around the API's limit.
 */
export const withRateLimitedUser = guard<SessionUser>(async (request) => {
  const user = await getRequestUser(request);
  if (!user) return signInToContinue();
  const counted = await countApiRequest(user.id, "uploads and API requests");
  return counted instanceof Response ? counted : { user, headers: counted.headers };
});

/**
 * For the Jobs API (/api/v1): a personal API token as `Authorization: Bearer …`,
 * and nothing else. Browser sessions do not authorize the API (a page cannot be
 * tricked into calling it with the cookie), and tokens do not authorize the UI.
 * Each person may make their tier's number of requests a minute, whichever of
 * their tokens they use (429 with Retry-After past it); every answer says how many are left.
 */
export const withApiToken = guard<ApiUser>(async (request) => {
  const token = bearerToken(request);
  if (!token) {
    return errorResponse("unauthorized", "Send a personal API token as Authorization: Bearer <token>; create one on the Tokens page", {
      headers: { "WWW-Authenticate": 'Bearer realm="Longrun"' },
    });
  }
  const user = await authenticateApiToken(db, token);
  if (!user) {
    return errorResponse("unauthorized", "This API token is not valid, or was revoked", {
      headers: { "WWW-Authenticate": 'Bearer realm="Longrun", error="invalid_token"' },
    });
  }
  const counted = await countApiRequest(user.id, "API requests");
  return counted instanceof Response ? counted : { user, headers: counted.headers };
});

/** Counts a request in its person's "api" window: the RateLimit headers for the answer, or the 429. */
async function countApiRequest(userId: string, what: string): Promise<{ headers: Record<string, string> } | Response> {
  const window = await countRequest(db, { userId, door: "api" });
  // The account was deleted under a live session or token: nothing left to act on.
  if (!window) return signInToContinue();
  const decision = decideRate("api", window, what);
  if (decision.isAllowed) return { headers: decision.headers };
  return errorResponse("rate_limited", decision.message, {
    headers: { ...decision.headers, "Retry-After": String(decision.resetSeconds) },
  });
}

/**
 * For the Prometheus scraper: `Authorization: Bearer $METRICS_TOKEN`. Without the token
 * configured, or with another one, the route does not exist (404).
 */
export const withMetricsToken = guard<null>(async (request) => {
  const token = getWebEnv().METRICS_TOKEN;
  const sent = request.headers.get("authorization")?.replace(/^Bearer /, "") ?? "";
  return token && isSameSecret(sent, token) ? { user: null } : notFound();
});

function isSameSecret(sent: string, expected: string) {
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export type ApiUser = NonNullable<Awaited<ReturnType<typeof authenticateApiToken>>>;

/**
 * A JSON error with a stable code and no internals for anything a handler (or
 * the token check) throws; the details go to the log. An unreachable database
 * (a restart, a failover) is a 503 with Retry-After, which clients retry, not a 500.
 */
async function answerSafely(request: Request, answer: () => Promise<Response>) {
  try {
    if (request.method !== "GET" && request.method !== "HEAD") return await answer();
    // A read waits at most READ_DEADLINE_MS, for what db/client.ts's connect_timeout and backoff
    // and our postgres.js patch do not bound (a statement waiting on a lock, a query queued behind
    // busy connections); the client gets a 503 to retry, not a hang.
    // (Writes are not cut short: an upload streams for as long as it takes.)
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<Response>((resolve) => {
      timer = setTimeout(() => {
        console.error(`${request.method} ${new URL(request.url).pathname}: no answer within ${READ_DEADLINE_MS / 1000} s`);
        resolve(serviceUnavailable());
      }, READ_DEADLINE_MS);
    });
    return await Promise.race([answer(), deadline]).finally(() => clearTimeout(timer));
  } catch (error) {
    return answerError(request, error);
  }
}

/** How long a GET route handler may wait (mostly for the database) before answering 503. */
const READ_DEADLINE_MS = 8_000;

const serviceUnavailable = () =>
  errorResponse("unavailable", "The service is briefly unavailable; try again in a few seconds", { headers: { "Retry-After": "5" } });

function answerError(request: Request, error: unknown) {
  const where = `${request.method} ${new URL(request.url).pathname}`;
  if (isDatabaseUnavailable(error)) {
    console.error(`${where}: database unreachable (${error instanceof Error ? error.message : String(error)})`);
    return serviceUnavailable();
  }
  console.error(`${where} failed`, error);
  return errorResponse("internal", "Something went wrong on our side; try again");
}
