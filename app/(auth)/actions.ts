"use server";

import { AuthError } from "next-auth";
import { db } from "@/db";
import { users } from "@/db/schema";
import { signIn, signOut } from "@/lib/auth";
import { hashPassword } from "@/lib/auth/password";
import { credentialsSchema, signUpSchema } from "@/lib/validation/auth";

export type AuthFormState = {
  fieldErrors?: { email?: string[]; password?: string[] };
  formError?: string;
  email?: string;
};

const AFTER_SIGN_IN = "/configurations";

export async function signUpWithPassword(_previous: AuthFormState, formData: FormData): Promise<AuthFormState> {
  const parsed = signUpSchema.safeParse(Object.fromEntries(formData));
  const email = String(formData.get("email") ?? "");
  if (!parsed.success) return { fieldErrors: parsed.error.flatten().fieldErrors, email };

  const inserted = await db
    .insert(users)
    .values({ email: parsed.data.email, passwordHash: await hashPassword(parsed.data.password) })
    .onConflictDoNothing({ target: users.email })
    .returning({ id: users.id });
  if (inserted.length === 0) {
    return { fieldErrors: { email: ["An account with this email already exists; sign in instead"] }, email };
  }
  await signIn("credentials", { email: parsed.data.email, password: parsed.data.password, redirectTo: AFTER_SIGN_IN });
  return {};
}

export async function signInWithPassword(_previous: AuthFormState, formData: FormData): Promise<AuthFormState> {
  const parsed = credentialsSchema.safeParse(Object.fromEntries(formData));
  const email = String(formData.get("email") ?? "");
  if (!parsed.success) return { fieldErrors: parsed.error.flatten().fieldErrors, email };
  try {
    await signIn("credentials", { ...parsed.data, redirectTo: AFTER_SIGN_IN });
  } catch (error) {
    // signIn redirects by throwing; only its own auth failures are ours to report.
    if (error instanceof AuthError) return { formError: "Wrong email or password", email };
    throw error;
  }
  return {};
}

export async function signOutUser() {
  await signOut({ redirectTo: "/sign-in" });
}
