import NextAuth, { CredentialsSignin } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { db } from "@/db";
import { getWebEnv } from "@/lib/env";
import { credentialsSchema } from "@/lib/validation/auth";
import { authorizeCredentials } from "./credentials";
import { endSessions, isCurrentSession } from "./sessions";
import { clientIp } from "./sign-in-limit";

declare module "next-auth" {
  interface Session {
    user: { id: string; email: string };
  }
  interface User {
    sessionGeneration?: number;
  }
}

const THIRTY_DAYS_IN_SECONDS = 30 * 24 * 60 * 60;

/**
 * next-auth with email + password. Sessions are signed JWT cookies: no table,
 * and they survive restarts because AUTH_SECRET is persisted (.data/ locally).
 * Config is built lazily so `next build` needs no secret.
 */
export const { handlers, auth, signIn, signOut } = NextAuth(() => ({
  secret: getWebEnv().AUTH_SECRET,
  trustHost: true,
  session: { strategy: "jwt", maxAge: THIRTY_DAYS_IN_SECONDS },
  pages: { signIn: "/sign-in" },
  // A wrong password is an answer to the person, not a server error worth a stack trace.
  logger: {
    error: (error) => {
      if (error.name !== "CredentialsSignin" && !(error instanceof CredentialsSignin)) console.error(error);
    },
  },
  providers: [
    Credentials({
      credentials: { email: { label: "Email" }, password: { label: "Password", type: "password" } },
      // Both the sign-in form's action and POST /api/auth/callback/credentials come here,
      // so the rate limit holds for either way in.
      authorize: async (raw, request) => {
        const parsed = credentialsSchema.safeParse(raw);
        if (!parsed.success) return null;
        const ip = clientIp(request.headers, getWebEnv().TRUSTED_PROXY_HOPS);
        return authorizeCredentials(db, { ...parsed.data, ip });
      },
    }),
  ],
  // Every sign-out (the sign-out button's action and POST /api/auth/signout alike) ends all the
  // person's sessions: a JWT cookie cannot be recalled, so ending this one means moving the
  // person's session generation on, which ends every device's.
  events: {
    signOut: async (message) => {
      if ("token" in message && message.token?.sub) await endSessions(message.token.sub);
    },
  },
  callbacks: {
    // At sign-in the token gets the person's session generation; every later read (auth(), so every
    // page and server action) ends a session from before their last sign-out: null clears its cookie.
    jwt: async ({ token, user }) => {
      if (user?.id) return { ...token, sub: user.id, sessionGeneration: user.sessionGeneration ?? 0 };
      return (await isCurrentSession(token)) ? token : null;
    },
    // The default session drops the user id; every owner-scoped query needs it.
    session: ({ session, token }) => {
      session.user.id = token.sub!;
      return session;
    },
  },
}));
