"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { JobLogLine } from "@/db/queries/job-logs";
import { fetchJson } from "../query-client";

const LEVEL_STYLES: Record<JobLogLine["level"], string> = {
  info: "text-slate-700",
  warn: "text-amber-700",
  error: "text-red-700",
};

/** The current render's log, fetched while open and followed while the render is unfinished. */
export function RenderLog({ resultId, isLive }: { resultId: string; isLive: boolean }) {
  const [isOpen, setIsOpen] = useState(false);
  const { data } = useQuery({
    queryKey: ["results", resultId, "log"],
    queryFn: () => fetchJson<{ lines: JobLogLine[] }>(`/api/results/${resultId}/log`),
    enabled: isOpen,
    refetchInterval: isLive ? 1000 : false,
  });
  return (
    <details className="rounded-md border border-slate-200 bg-white text-sm" onToggle={(event) => setIsOpen(event.currentTarget.open)}>
      <summary className="cursor-pointer select-none px-3 py-2 font-medium text-slate-700">Log</summary>
      <ol className="max-h-60 space-y-0.5 overflow-auto border-t border-slate-100 px-3 py-2 font-mono text-xs" aria-label="Render log">
        {data?.lines.length === 0 && <li className="text-slate-500">Nothing logged yet.</li>}
        {data?.lines.map((line) => (
          <li key={line.id} className={LEVEL_STYLES[line.level]}>
            <time dateTime={line.at} className="text-slate-400" suppressHydrationWarning>
              {new Date(line.at).toLocaleTimeString()}
            </time>{" "}
            {line.message}
          </li>
        ))}
      </ol>
    </details>
  );
}
