import { AuthForm } from "@/components/auth/auth-form";

export const metadata = { title: "Sign up" };

export default function SignUpPage() {
  return (
    <>
      <h1 className="mb-4 text-lg font-medium">Create an account</h1>
      <AuthForm mode="sign-up" />
    </>
  );
}
