/**
 * Workaround: next-auth's route handler takes the site's address from request.url, which Next's
 * standalone server builds from the address it listens on, not from the Host header.
 *
 * Upstream: started with HOSTNAME=0.0.0.0 (as containers and `npm start` run it), every redirect of
 * /api/auth/* (the credentials callback's, sign-in's, sign-out's) went to http://0.0.0.0:PORT, a
 * dead address in the browser. next-auth reads only AUTH_URL besides request.url; `trustHost` does
 * not make its route handler read the Host header (its server-side signIn does).
 * https://github.com/nextauthjs/next-auth/issues/10928 (open).
 *
 * What this does: gives next-auth the request with its host taken from X-Forwarded-Host or Host,
 * as next-auth's own server-side signIn does under `trustHost`; the protocol stays Next's (which
 * follows X-Forwarded-Proto). AUTH_URL, when set, still wins (next-auth applies it after this).
 *
 * Delete when: next-auth's route handler reads the Host header under trustHost, or Next builds
 * request.url from it; server/auth/sign-in-redirect.integration.test.ts shows which.
 */
import { NextRequest } from "next/server";

export function withRequestHost(handler: (request: NextRequest) => Promise<Response>) {
  return (request: NextRequest): Promise<Response> => {
    const host = request.headers.get("x-forwarded-host") ?? request.headers.get("host");
    const { protocol, pathname, search } = new URL(request.url);
    const origin = `${protocol}//${host}`;
    if (!host || !URL.canParse(origin)) return handler(request);
    return handler(new NextRequest(new URL(`${pathname}${search}`, origin), request));
  };
}
