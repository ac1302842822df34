import Link from "next/link";
import { ActivityNotifier } from "@/components/activity-notifier";
import { Providers } from "@/components/providers";
import { isAdmin, requireUser } from "@/lib/auth/guards";
import { signOutUser } from "../(auth)/actions";

export default async function AppLayout({ children }: { children: React.ReactNode }) {
  const user = await requireUser();
  return (
    <Providers>
      <header className="border-b border-slate-200 bg-white">
        <nav className="mx-auto flex max-w-6xl items-center gap-6 px-4 py-3 text-sm">
          <Link href="/configurations" className="text-base font-semibold tracking-tight">
            Longrun
          </Link>
          <Link href="/configurations" className="text-slate-700 hover:text-slate-950">
            Configurations
          </Link>
          <Link href="/usage" className="text-slate-700 hover:text-slate-950">
            Usage
          </Link>
          {(await isAdmin(user.id)) && (
            <Link href="/admin" className="text-slate-700 hover:text-slate-950">
              Dashboard
            </Link>
          )}
          <span className="ml-auto text-slate-500">{user.email}</span>
          <form action={signOutUser}>
            <button type="submit" className="button">
              Sign out
            </button>
          </form>
        </nav>
      </header>
      <main className="mx-auto max-w-6xl px-4 py-6">{children}</main>
      <ActivityNotifier />
    </Providers>
  );
}
