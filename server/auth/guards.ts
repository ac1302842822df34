import { eq } from "drizzle-orm";
import { getToken } from "next-auth/jwt";
import { notFound, redirect } from "next/navigation";
import { db } from "@/db";
import { authenticateApiToken } from "@/db/queries/api-tokens";
import { users } from "@/db/schema";
import { bearerToken } from "@/lib/api-tokens";
import { getWebEnv } from "@/lib/env";
import { errorResponse, isDatabaseUnavailable } from "@/lib/errors";
import { TIER_LIMITS } from "@/lib/tiers";
import { auth } from "./index";

export type SessionUser = { id: string; email: string };

/** For pages and layouts: the signed-in user, or a redirect to sign in. */
export async function requireUser(): Promise<SessionUser> {
  const session = await auth();
  if (!session?.user?.id) redirect("/sign-in");
  return session.user;
}

type RouteContext<P> = { params: Promise<P> };

/**
 * The session of a route handler's request, decoded from its cookie only.
 * auth() would also re-issue the cookie (a second encryption) on every call:
 * a third of a status poll's time. Pages keep auth(), which keeps sessions rolling.
 * Decoded tokens are cached by their exact string (a browser polls with the same
 * cookie several times a second) until they expire, at most a minute.
 */
const decodedSessions = new Map<string, { user: SessionUser; validUntil: number }>();
const SESSION_CACHE_MS = 60_000;
const SESSION_CACHE_SIZE = 10_000;

export async function getRequestUser(request: Request): Promise<SessionUser | null> {
  const protocol = request.headers.get("x-forwarded-proto") ?? new URL(request.url).protocol.replace(":", "");
  const secureCookie = protocol === "https";
  const raw = await getToken({ req: request, secret: getWebEnv().AUTH_SECRET, secureCookie, raw: true });
  if (!raw) return null;
  const cached = decodedSessions.get(raw);
  if (cached && cached.validUntil > Date.now()) return cached.user;

  const token = await getToken({ req: request, secret: getWebEnv().AUTH_SECRET, secureCookie });
  if (!token?.sub || !token.email) return null;
  const user = { id: token.sub, email: token.email };
  if (decodedSessions.size >= SESSION_CACHE_SIZE) decodedSessions.clear();
  const expiresAt = typeof token.exp === "number" ? token.exp * 1000 : 0;
  decodedSessions.set(raw, { user, validUntil: Math.min(Date.now() + SESSION_CACHE_MS, expiresAt) });
  return user;
}

/**
 * For route handlers: a 401 JSON error without a session. Handlers only
 * parse, run one query and answer.
 */
export function withUser<P = Record<string, never>>(
  handler: (request: Request, context: { user: SessionUser; params: P }) => Promise<Response>,
) {
  return async (request: Request, context: RouteContext<P>) => {
    const user = await getRequestUser(request);
    if (!user) return errorResponse("unauthorized", "Sign in to continue");
    return answerSafely(request, async () => handler(request, { user, params: await context.params }));
  };
}

/**
 * For the Jobs API (/api/v1): a personal API token as `Authorization: Bearer …`,
 * and nothing else. Browser sessions do not authorize the API (a page cannot be
 * tricked into calling it with the cookie), and tokens do not authorize the UI.
 * Each token may make its tier's number of requests a minute (429 with
 * Retry-After past it); every answer says how many are left.
 */
export function withApiToken<P = Record<string, never>>(
  handler: (request: Request, context: { user: ApiUser; params: P }) => Promise<Response>,
) {
  return async (request: Request, context: RouteContext<P>) =>
    answerSafely(request, async () => {
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
      const limit = TIER_LIMITS[user.tier].apiRequestsPerMinute;
      const resetSeconds = Math.max(1, Math.ceil((new Date(user.windowResetsAt).getTime() - Date.now()) / 1000));
      const rateHeaders = {
        "RateLimit-Limit": String(limit),
        "RateLimit-Remaining": String(Math.max(0, limit - user.requestsInWindow)),
        "RateLimit-Reset": String(resetSeconds),
      };
      if (user.requestsInWindow > limit) {
        return errorResponse("rate_limited", `A ${TIER_LIMITS[user.tier].label} account may make ${limit} API requests a minute; try again in ${resetSeconds} s`, {
          headers: { ...rateHeaders, "Retry-After": String(resetSeconds) },
        });
      }
      const response = await handler(request, { user, params: await context.params }).catch((error: unknown) => answerError(request, error));
      for (const [name, value] of Object.entries(rateHeaders)) response.headers.set(name, value);
      return response;
    });
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

/**
 * Wraps a server action (Next treats actions as public endpoints): signed-out
 * callers are sent to sign in, everyone else gets their user.
 */
export function withActionUser<A extends unknown[], R>(action: (user: SessionUser, ...args: A) => Promise<R>) {
  return async (...args: A): Promise<R> => action(await requireUser(), ...args);
}

/** For admin pages and routes: anyone else gets a 404, as if the page did not exist. */
export async function isAdmin(userId: string) {
  const [user] = await db.select({ role: users.role }).from(users).where(eq(users.id, userId));
  return user?.role === "admin";
}

/** For admin pages: the signed-in admin; anyone else sees the same 404 as for a missing page. */
export async function requireAdmin(): Promise<SessionUser> {
  const user = await requireUser();
  if (!(await isAdmin(user.id))) notFound();
  return user;
}
