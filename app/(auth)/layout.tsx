import { redirect } from "next/navigation";
import { auth } from "@/server/auth";

export default async function AuthLayout({ children }: { children: React.ReactNode }) {
  if ((await auth())?.user?.id) redirect("/configurations");
  return (
    <main className="mx-auto mt-20 max-w-sm rounded-lg border border-slate-200 bg-white p-8 shadow-sm">
      <p className="mb-6 text-center text-xl font-semibold tracking-tight">Longrun</p>
      {children}
    </main>
  );
}
