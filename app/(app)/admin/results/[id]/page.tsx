import Link from "next/link";
import { notFound } from "next/navigation";
import { db } from "@/db";
import { listJobLog } from "@/db/queries/job-logs";
import { requireAdmin, requireParams } from "@/server/auth/guards";
import { idParamsSchema } from "@/lib/validation/configuration";

export const metadata = { title: "Render log" };

/** Any render's log, for admins (linked from the dashboard's running renders and failures). */
export default async function AdminRenderLogPage({ params }: { params: Promise<{ id: string }> }) {
  await requireAdmin();
  const { id } = await requireParams(params, idParamsSchema);
  const lines = await listJobLog(db, { resultId: id, ownerId: "any" });
  if (!lines) notFound();
  return (
    <div className="space-y-4">
      <Link href="/admin" className="text-sm text-indigo-700 hover:underline">
        ← Dashboard
      </Link>
      <h1 className="text-2xl font-semibold">Render log</h1>
      <ol className="space-y-0.5 rounded-lg border border-slate-200 bg-white p-4 font-mono text-xs" aria-label="Render log">
        {lines.length === 0 && <li className="text-slate-500">Nothing logged yet.</li>}
        {lines.map((line) => (
          <li
            key={line.id}
            className={line.level === "error" ? "text-red-700" : line.level === "warn" ? "text-amber-700" : "text-slate-700"}
          >
            <time dateTime={line.at} className="text-slate-400">
              {line.at}
            </time>{" "}
            {line.message}
          </li>
        ))}
      </ol>
    </div>
  );
}
