import { redirect } from "next/navigation";
import { AppError, errorResponse } from "@/lib/errors";
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
 * For route handlers: a 401 JSON error without a session; AppErrors become
 * their JSON response. Handlers only parse, run one query and answer.
 */
export function withUser<P = Record<string, never>>(
  handler: (request: Request, context: { user: SessionUser; params: P }) => Promise<Response>,
) {
  return async (request: Request, context: RouteContext<P>) => {
    const session = await auth();
    if (!session?.user?.id) return errorResponse("unauthorized", "Sign in to continue");
    try {
      return await handler(request, { user: session.user, params: await context.params });
    } catch (error) {
      if (error instanceof AppError) return errorResponse(error.code, error.message);
      throw error;
    }
  };
}

/** For server actions: Next treats them as public endpoints, so each checks the session. */
export async function getActionUser(): Promise<SessionUser | null> {
  const session = await auth();
  return session?.user?.id ? session.user : null;
}

/** Wraps a server action: signed-out callers are sent to sign in, everyone else gets their user. */
export function withActionUser<A extends unknown[], R>(action: (user: SessionUser, ...args: A) => Promise<R>) {
  return async (...args: A): Promise<R> => {
    const user = await getActionUser();
    if (!user) redirect("/sign-in");
    return action(user, ...args);
  };
}
