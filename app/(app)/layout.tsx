import Link from "next/link";
import { ActivityNotifier } from "@/components/activity-notifier";
import { Providers } from "@/components/providers";
import { requireUser } from "@/server/auth/guards";
import { signOutUser } from "../(auth)/actions";

const NAV_LINKS = [
  { href: "/configurations", label: "Configurations" },
  { href: "/uploads", label: "Uploads" },
  { href: "/usage", label: "Usage" },
  { href: "/tokens", label: "Tokens" },
];
const ADMIN_LINK = { href: "/admin", label: "Dashboard" };

export default async function AppLayout({ children }: { children: React.ReactNode }) {
  const user = await requireUser();
  return (
    <Providers>
      <header className="border-b border-slate-200 bg-white">
        <nav className="mx-auto flex max-w-6xl items-center gap-6 px-4 py-3 text-sm">
          <Link href="/configurations" className="text-base font-semibold tracking-tight">
            Longrun
          </Link>
          {[...NAV_LINKS, ...(user.role === "admin" ? [ADMIN_LINK] : [])].map((link) => (
            <Link key={link.href} href={link.href} className="text-slate-700 hover:text-slate-950">
              {link.label}
            </Link>
          ))}
          <span className="ml-auto text-slate-500">{user.email}</span>
          {/* A form posts to the action directly (no script needed); it redirects, so its answer goes unread. */}
          <form action={signOutUser as () => Promise<never>}>
            <button type="submit" className="button" title="Ends your sessions on every device">
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
