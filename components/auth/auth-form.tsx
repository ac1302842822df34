"use client";

import "@/components/zod-without-eval";
import Link from "next/link";
import { useActionState } from "react";
import { signInWithPassword, signUpWithPassword, type AuthFormState } from "@/app/(auth)/actions";
import { PASSWORD_MIN_LENGTH } from "@/lib/validation/auth";

export function AuthForm({ mode }: { mode: "sign-in" | "sign-up" }) {
  const isSignUp = mode === "sign-up";
  const [state, formAction, isPending] = useActionState<AuthFormState, FormData>(isSignUp ? signUpWithPassword : signInWithPassword, {});
  return (
    <form action={formAction} noValidate className="space-y-4">
      {state.formError && (
        <p role="alert" className="rounded-md bg-red-50 p-2 text-sm text-red-700">
          {state.formError}
        </p>
      )}
      <div className="space-y-1">
        <label htmlFor="email" className="block text-sm font-medium">
          Email
        </label>
        <input
          id="email"
          name="email"
          type="email"
          autoComplete="email"
          className="input"
          defaultValue={state.values?.email}
          aria-invalid={!!state.fieldErrors?.email}
        />
        {state.fieldErrors?.email && <p className="text-sm text-red-600">{state.fieldErrors.email[0]}</p>}
      </div>
      <div className="space-y-1">
        <label htmlFor="password" className="block text-sm font-medium">
          Password
        </label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete={isSignUp ? "new-password" : "current-password"}
          className="input"
          aria-invalid={!!state.fieldErrors?.password}
        />
        {isSignUp && !state.fieldErrors?.password && <p className="text-xs text-slate-500">At least {PASSWORD_MIN_LENGTH} characters.</p>}
        {state.fieldErrors?.password && <p className="text-sm text-red-600">{state.fieldErrors.password[0]}</p>}
      </div>
      <button type="submit" className="button button-primary w-full" disabled={isPending}>
        {isSignUp ? "Sign up" : "Sign in"}
      </button>
      <p className="text-center text-sm text-slate-600">
        {isSignUp ? (
          <>
            Have an account?{" "}
            <Link className="text-indigo-700 underline" href="/sign-in">
              Sign in
            </Link>
          </>
        ) : (
          <>
            New here?{" "}
            <Link className="text-indigo-700 underline" href="/sign-up">
              Create an account
            </Link>
          </>
        )}
      </p>
    </form>
  );
}
