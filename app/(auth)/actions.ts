"use server";

import { AuthError } from "next-auth";
import { db } from "@/db";
import { createUser } from "@/db/queries/users";
import { credentialsSchema, signUpSchema } from "@/lib/validation/auth";
import { defineAction, type ActionState } from "@/server/actions";
import { signIn, signOut } from "@/server/auth";
import { hashPassword } from "@/server/auth/password";
import { SignInRateLimited, signInRateLimitedMessage } from "@/server/auth/sign-in-limit";

export type AuthFormState = ActionState<"email" | "password">;

const AFTER_SIGN_IN = "/configurations";

export const signUpWithPassword = defineAction({ role: "anyone", form: signUpSchema, secretFields: ["password"] }, async ({ form }) => {
  const created = await createUser(db, { email: form.email, passwordHash: await hashPassword(form.password) });
  // With the email taken, signing up again with the account's own password signs its
  // owner in; anything else is a failed sign-in, rate limited like one, so sign-up
  // cannot be used to guess passwords or to list emails faster than sign-in.
  const failure = await signInOrFailure(form);
  if (!failure) return {};
  return { formError: !created && failure === GENERIC_FAILURE ? EMAIL_TAKEN : failure };
});

export const signInWithPassword = defineAction(
  { role: "anyone", form: credentialsSchema, secretFields: ["password"] },
  async ({ form }) => {
    const failure = await signInOrFailure(form);
    return failure ? { formError: failure } : {};
  },
);

/** One message for an unknown email and a wrong password: sign-in does not tell which emails have accounts. */
const GENERIC_FAILURE = "Wrong email or password";
/** Sign-up cannot hide a taken email (it would have to create the account), so it says so, and no more. */
const EMAIL_TAKEN = "An account with this email already exists; sign in instead";

/** Signs in and redirects, or says why not. */
async function signInOrFailure(credentials: { email: string; password: string }): Promise<string | null> {
  try {
    await signIn("credentials", { ...credentials, redirectTo: AFTER_SIGN_IN });
  } catch (error) {
    // signIn redirects by throwing; only its own auth failures are ours to report.
    if (error instanceof SignInRateLimited) return signInRateLimitedMessage(error.retryAfterMinutes);
    if (error instanceof AuthError) return GENERIC_FAILURE;
    throw error;
  }
  return null;
}

export const signOutUser = defineAction({ role: "anyone" }, async () => {
  await signOut({ redirectTo: "/sign-in" });
  return {};
});
