import type { ResultSummary } from "@/db/queries/configurations";

const STYLES: Record<ResultSummary["status"], string> = {
  queued: "bg-slate-100 text-slate-700 ring-slate-300",
  running: "bg-indigo-50 text-indigo-700 ring-indigo-300",
  succeeded: "bg-emerald-50 text-emerald-700 ring-emerald-300",
  failed: "bg-red-50 text-red-700 ring-red-300",
  cancelled: "bg-amber-50 text-amber-800 ring-amber-300",
  superseded: "bg-slate-100 text-slate-500 ring-slate-300",
};

export function statusLabel(result: Pick<ResultSummary, "status" | "progress">) {
  switch (result.status) {
    case "queued":
      return "Queued";
    case "running":
      return `Running ${Math.floor(result.progress * 100)}%`;
    case "succeeded":
      return "Done";
    case "failed":
      return "Failed";
    case "cancelled":
      return "Cancelled";
    case "superseded":
      return "Superseded";
  }
}

export function StatusBadge({ result }: { result: Pick<ResultSummary, "status" | "progress"> | null }) {
  if (!result) return <span className="text-xs text-slate-500">Never rendered</span>;
  return (
    <span
      data-testid="status-badge"
      data-status={result.status}
      className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${STYLES[result.status]}`}
    >
      {statusLabel(result)}
    </span>
  );
}

export const isUnfinished = (result: Pick<ResultSummary, "status"> | null | undefined) =>
  result?.status === "queued" || result?.status === "running";
