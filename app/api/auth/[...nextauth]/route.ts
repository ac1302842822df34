import { handlers } from "@/server/auth";
import { withBodyLimit } from "@/server/api/body";
import { withRequestHost } from "@/server/workarounds/next-auth-request-origin";

/** Sign-in, sign-out and session updates are a few form fields; anything larger is refused before next-auth reads it. */
const AUTH_BODY_MAX_BYTES = 16 * 1024;

export const GET = withRequestHost(handlers.GET);
export const POST = withBodyLimit(AUTH_BODY_MAX_BYTES, withRequestHost(handlers.POST));
