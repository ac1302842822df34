import Link from "next/link";
import { db } from "@/db";
import { getStorageUsage } from "@/db/queries/storage-usage";
import { getMonthlyUsage } from "@/db/queries/usage";
import { formatBytes } from "@/lib/format";
import { UsageChart } from "@/components/usage/usage-chart";
import { requireUser } from "@/server/auth/guards";
import { UsageCells, UsageTableHead } from "@/components/usage/usage-cells";

export const metadata = { title: "Usage" };

export default async function UsagePage() {
  const user = await requireUser();
  const [usage, storage] = await Promise.all([getMonthlyUsage(db, { ownerId: user.id }), getStorageUsage(db, { ownerId: user.id })]);
  const kinds = [
    ["Renders", usage.byKind.render],
    ["Upload processing steps", usage.byKind.upload],
  ] as const;
  return (
    <div className="space-y-6">
      <div className="flex items-center justify-between">
        <h1 className="text-2xl font-semibold">Usage this month</h1>
        {user.role === "admin" && (
          <Link className="button" href="/admin/usage">
            Everyone&apos;s usage
          </Link>
        )}
      </div>
      <section className="rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="storage-heading">
        <h2 id="storage-heading" className="mb-2 text-sm font-medium text-slate-700">
          Storage ({storage.tier} tier)
        </h2>
        <p className="text-sm" data-testid="storage-usage">
          Storage: {formatBytes(storage.bytes)} of {formatBytes(storage.maxBytes)}, {storage.files.toLocaleString("en-US")} of{" "}
          {storage.maxFiles.toLocaleString("en-US")} files
        </p>
        <progress
          className="mt-2 h-1.5 w-full"
          max={storage.maxBytes}
          value={Math.min(storage.bytes, storage.maxBytes)}
          aria-label="Storage used"
        />
      </section>
      <table className="w-full overflow-hidden rounded-lg border border-slate-200 bg-white text-sm" aria-label="This month by kind">
        <UsageTableHead headings={["Kind", "Jobs", "Attempts", "CPU time", "Wall time", "Read", "Written"]} />
        <tbody>
          {kinds.map(([label, figures]) => (
            <tr key={label} className="border-t border-slate-100">
              <td className="px-3 py-2">{label}</td>
              <td className="px-3 py-2">{figures.jobs}</td>
              <UsageCells figures={figures} />
            </tr>
          ))}
        </tbody>
      </table>
      <section className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 className="mb-2 text-sm font-medium text-slate-700">CPU seconds per day (UTC)</h2>
        {usage.perDay.length > 0 ? (
          <UsageChart days={usage.perDay} />
        ) : (
          <p className="text-sm text-slate-500">Nothing computed this month.</p>
        )}
      </section>
    </div>
  );
}
