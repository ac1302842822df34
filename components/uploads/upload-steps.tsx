import type { UploadStepView, UploadView } from "@/db/queries/uploads";
import { isTypeMismatch } from "@/lib/uploads/media-types";
import { UPLOAD_STEP_LABELS } from "@/lib/uploads/steps";

const STYLES: Record<UploadStepView["status"], string> = {
  queued: "bg-slate-100 text-slate-700 ring-slate-300",
  running: "bg-indigo-50 text-indigo-700 ring-indigo-300",
  succeeded: "bg-emerald-50 text-emerald-700 ring-emerald-300",
  failed: "bg-red-50 text-red-700 ring-red-300",
};

const STATUS_LABELS: Record<UploadStepView["status"], string> = {
  queued: "queued",
  running: "running",
  succeeded: "done",
  failed: "failed",
};

/** One badge per processing step, each with its own live status. */
export function UploadSteps({ steps }: { steps: UploadStepView[] }) {
  return (
    <ul className="flex flex-wrap gap-1.5" aria-label="Processing steps">
      {steps.map((step) => (
        <li
          key={step.step}
          data-testid="upload-step"
          data-step={step.step}
          data-status={step.status}
          title={step.message ?? undefined}
          className={`rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${STYLES[step.status]}`}
        >
          {UPLOAD_STEP_LABELS[step.step]} {STATUS_LABELS[step.status]}
        </li>
      ))}
    </ul>
  );
}

/** The detected type, and the claimed one when the bytes say otherwise. */
export function UploadType({ upload }: { upload: Pick<UploadView, "declaredType" | "detectedType"> }) {
  if (!upload.detectedType) return <span className="text-slate-500">type pending</span>;
  return (
    <span data-testid="upload-type">
      {upload.detectedType}
      {isTypeMismatch(upload.declaredType, upload.detectedType) && (
        <span
          className="ml-1.5 rounded bg-amber-100 px-1.5 py-0.5 text-xs font-medium text-amber-800"
          title="The name or the browser said otherwise"
        >
          declared {upload.declaredType}
        </span>
      )}
    </span>
  );
}
