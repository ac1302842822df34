import { AuthForm } from "@/components/auth/auth-form";

export const metadata = { title: "Sign in" };

export default function SignInPage() {
  return (
    <>
      <h1 className="mb-4 text-lg font-medium">Sign in</h1>
      <AuthForm mode="sign-in" />
    </>
  );
}
