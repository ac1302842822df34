"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useTransition } from "react";
import { toast } from "sonner";
import { cancelRender } from "@/app/(app)/configurations/actions";
import type { ConfigurationStatus } from "@/db/queries/configurations";
import { fetchJson, queryKeys } from "../query-client";
import { JobLog } from "../job-log";
import { isUnfinished, StatusBadge } from "./status-badge";

// Progress is written about 4 times a second; poll about that fast while a render is unfinished.
const POLL_MS = 400;

export function RenderView({ configurationId, initial }: { configurationId: string; initial: ConfigurationStatus }) {
  const queryClient = useQueryClient();
  const [isCancelling, startCancel] = useTransition();
  const { data: status } = useQuery({
    queryKey: queryKeys.configuration(configurationId),
    queryFn: () => fetchJson<ConfigurationStatus>(`/api/configurations/${configurationId}/status`),
    initialData: initial,
    refetchInterval: (query) => (isUnfinished(query.state.data?.current) ? POLL_MS : false),
  });

  const { current, shown } = status;
  const isComputing = isUnfinished(current);
  const percent = Math.floor((current?.progress ?? 0) * 100);

  const cancel = () =>
    startCancel(async () => {
      if (!current) return;
      const outcome = await cancelRender(current.id);
      if (outcome.formError) toast.error(outcome.formError);
      await queryClient.invalidateQueries({ queryKey: queryKeys.allConfigurations });
    });

  return (
    <section aria-label="Picture" className="space-y-3">
      <div className="relative aspect-square w-full max-w-[640px] overflow-hidden rounded-lg border border-slate-200 bg-slate-100">
        {shown?.imageSha256 ? (
          <img
            src={`/api/images/${shown.imageSha256}`}
            alt={`Render of ${status.name}`}
            data-testid="render-image"
            data-result-id={shown.id}
            data-stale={shown.isStale}
            className={`size-full object-contain transition ${shown.isStale ? "opacity-70 grayscale-[40%]" : ""}`}
          />
        ) : (
          <div data-testid="render-placeholder" className="flex size-full items-center justify-center text-slate-400">
            No picture yet
          </div>
        )}
        {shown?.isStale && (
          <span className="absolute left-3 top-3 rounded bg-amber-100 px-2 py-1 text-xs font-medium text-amber-900 shadow">
            Showing the previous settings
          </span>
        )}
        {isComputing && (
          <div
            className="absolute inset-0 flex flex-col items-center justify-center gap-3 bg-white/50 backdrop-blur-[1px]"
            data-testid="progress-overlay"
          >
            <span className="size-8 animate-spin rounded-full border-4 border-indigo-200 border-t-indigo-600" aria-hidden />
            <div
              role="progressbar"
              aria-label="Render progress"
              aria-valuemin={0}
              aria-valuemax={100}
              aria-valuenow={percent}
              className="h-2 w-2/3 overflow-hidden rounded-full bg-slate-200"
            >
              <div className="h-full bg-indigo-600 transition-[width]" style={{ width: `${percent}%` }} />
            </div>
            <span className="text-sm font-medium text-slate-800">{current?.status === "queued" ? "Queued" : `${percent}%`}</span>
          </div>
        )}
      </div>

      <div className="flex flex-wrap items-center gap-3">
        <StatusBadge result={current} />
        {current?.message && current.status !== "succeeded" && <span className="text-sm text-slate-600">{current.message}</span>}
        {isComputing && (
          <button type="button" className="button" onClick={cancel} disabled={isCancelling}>
            Cancel
          </button>
        )}
        {shown?.imageSha256 && (
          <a className="button" href={`/api/results/${shown.id}/download`} download>
            Download PNG
          </a>
        )}
      </div>
      {current?.status === "failed" && current.error && (
        <p role="alert" className="rounded-md bg-red-50 p-2 text-sm text-red-700">
          The render failed after {current.attempts} attempts: {current.error}
        </p>
      )}
      {current?.status === "succeeded" && current.wallMs !== null && (
        <p className="text-xs text-slate-500">
          Rendered in {(current.wallMs / 1000).toFixed(2)} s (CPU {((current.cpuMs ?? 0) / 1000).toFixed(2)} s) by {current.workerId}
        </p>
      )}
      {current && (
        <JobLog key={current.id} url={`/api/results/${current.id}/log`} isLive={isComputing} version={current.status} label="Render log" />
      )}
    </section>
  );
}
