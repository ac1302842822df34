import Link from "next/link";
import { Dashboard } from "@/components/admin/dashboard";
import { db } from "@/db";
import { getDashboardOverview } from "@/db/queries/dashboard";
import { DEFAULT_STALE_AFTER_MS } from "@/db/queries/workers";
import { requireAdmin } from "@/server/auth/guards";

export const metadata = { title: "Dashboard" };

export default async function AdminDashboardPage() {
  await requireAdmin();
  const overview = await getDashboardOverview(db, { staleAfterMs: DEFAULT_STALE_AFTER_MS });
  return (
    <div className="space-y-4">
      <div className="flex items-center justify-between">
        <h1 className="text-2xl font-semibold">Dashboard</h1>
        <div className="flex gap-2">
          <Link className="button" href="/admin/users">
            Users
          </Link>
          <Link className="button" href="/admin/usage">
            Everyone&apos;s usage
          </Link>
        </div>
      </div>
      <Dashboard initial={overview} />
    </div>
  );
}
