"use server";

import { AuthError } from "next-auth";
import { db } from "@/db";
import { users } from "@/db/schema";
import { signIn, signOut } from "@/server/auth";
import { hashPassword } from "@/server/auth/password";
import { SignInRateLimited, signInRateLimitedMessage } from "@/server/auth/sign-in-limit";
import { credentialsSchema, signUpSchema } from "@/lib/validation/auth";
import { formEntries } from "@/lib/validation/form-data";

export type AuthFormState = {
  fieldErrors?: { email?: string[]; password?: string[] };
  formError?: string;
  email?: string;
};

const AFTER_SIGN_IN = "/configurations";

export async function signUpWithPassword(_previous: AuthFormState, formData: FormData): Promise<AuthFormState> {
  const fields = Object.fromEntries(formEntries(formData));
  const parsed = signUpSchema.safeParse(fields);
  const email = typeof fields.email === "string" ? fields.email : "";
  if (!parsed.success) return { fieldErrors: parsed.error.flatten().fieldErrors, email };

  const inserted = await db
    .insert(users)
    .values({ email: parsed.data.email, passwordHash: await hashPassword(parsed.data.password) })
    .onConflictDoNothing({ target: users.email })
    .returning({ id: users.id });
  if (inserted.length === 0) {
    // The email is taken. Signing up again with the account's own password signs its
    // owner in; anything else is a failed sign-in, rate limited like one, so sign-up
    // cannot be used to guess passwords or to list emails faster than sign-in.
    const failure = await signInOrFailure(parsed.data);
    return failure ? { formError: failure === GENERIC_FAILURE ? EMAIL_TAKEN : failure, email } : {};
  }
  const failure = await signInOrFailure(parsed.data);
  return failure ? { formError: failure, email } : {};
}

export async function signInWithPassword(_previous: AuthFormState, formData: FormData): Promise<AuthFormState> {
  const fields = Object.fromEntries(formEntries(formData));
  const parsed = credentialsSchema.safeParse(fields);
  const email = typeof fields.email === "string" ? fields.email : "";
  if (!parsed.success) return { fieldErrors: parsed.error.flatten().fieldErrors, email };
  const failure = await signInOrFailure(parsed.data);
  return failure ? { formError: failure, email } : {};
}

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

export async function signOutUser() {
  await signOut({ redirectTo: "/sign-in" });
}
