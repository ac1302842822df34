import Link from "next/link";
import { db } from "@/db";
import { getMonthlyUsage } from "@/db/queries/usage";
import { UsageChart } from "@/components/usage/usage-chart";
import { isAdmin, requireUser } from "@/lib/auth/guards";
import { formatBytes, formatSeconds } from "@/lib/format";

export const metadata = { title: "Usage" };

export default async function UsagePage() {
  const user = await requireUser();
  const [usage, isAdminUser] = await Promise.all([getMonthlyUsage(db, { ownerId: user.id }), isAdmin(user.id)]);
  const { totals } = usage;
  const figures = [
    ["Renders", String(totals.renders)],
    ["CPU time", formatSeconds(totals.cpuMs)],
    ["Wall time", formatSeconds(totals.wallMs)],
    ["Written", formatBytes(totals.bytesWritten)],
    ["Attempts", String(totals.attempts)],
  ];
  return (
    <div className="space-y-6">
      <div className="flex items-center justify-between">
        <h1 className="text-2xl font-semibold">Usage this month</h1>
        {isAdminUser && (
          <Link className="button" href="/admin/usage">
            Everyone&apos;s usage
          </Link>
        )}
      </div>
      <dl className="grid grid-cols-2 gap-3 sm:grid-cols-5" aria-label="This month's totals">
        {figures.map(([label, value]) => (
          <div key={label} className="rounded-lg border border-slate-200 bg-white p-3">
            <dt className="text-xs text-slate-500">{label}</dt>
            <dd className="text-lg font-semibold">{value}</dd>
          </div>
        ))}
      </dl>
      <section className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 className="mb-2 text-sm font-medium text-slate-700">Renders: CPU seconds per day (UTC)</h2>
        {usage.perDay.length > 0 ? <UsageChart days={usage.perDay} /> : <p className="text-sm text-slate-500">No finished renders this month.</p>}
      </section>
    </div>
  );
}
