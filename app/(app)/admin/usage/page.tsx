import { db } from "@/db";
import { listMonthlyUsageByUser } from "@/db/queries/usage";
import { requireAdmin } from "@/server/auth/guards";
import { UsageCells, UsageTableHead } from "@/components/usage/usage-cells";

export const metadata = { title: "Everyone's usage" };

export default async function AdminUsagePage() {
  await requireAdmin();
  const rows = await listMonthlyUsageByUser(db);
  return (
    <div className="space-y-4">
      <div className="flex items-center justify-between">
        <h1 className="text-2xl font-semibold">Everyone&apos;s usage this month</h1>
        <a className="button" href="/api/admin/usage" download>
          Export CSV
        </a>
      </div>
      <table className="w-full overflow-hidden rounded-lg border border-slate-200 bg-white text-sm">
        <UsageTableHead headings={["Email", "Renders", "Upload steps", "Attempts", "CPU", "Wall", "Read", "Written"]} />
        <tbody>
          {rows.map((row) => (
            <tr key={row.ownerId} className="border-t border-slate-100">
              <td className="px-3 py-2">{row.email}</td>
              <td className="px-3 py-2">{row.renders}</td>
              <td className="px-3 py-2">{row.uploadSteps}</td>
              <UsageCells figures={row} />
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
