"use client";

import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { JobLogLine } from "@/db/queries/job-logs";
import { fetchJson } from "./query-client";

const LEVEL_STYLES: Record<JobLogLine["level"], string> = {
  info: "text-slate-700",
  warn: "text-amber-700",
  error: "text-red-700",
};

/**
 * A render's or an upload's log (its route's URL), fetched while open, followed
 * while work is unfinished, and fetched again whenever `version` (the work's
 * status) changes, so the last lines of work that finished between polls appear.
 */
export function JobLog({ url, isLive, version, label }: { url: string; isLive: boolean; version: string; label: string }) {
  const [isOpen, setIsOpen] = useState(false);
  const { data, refetch } = useQuery({
    queryKey: [url],
    queryFn: () => fetchJson<{ lines: JobLogLine[] }>(url),
    enabled: isOpen,
    refetchInterval: isLive ? 1000 : false,
  });
  useEffect(() => {
    if (isOpen) void refetch();
  }, [version, isOpen, refetch]);
  return (
    <details className="rounded-md border border-slate-200 bg-white text-sm" onToggle={(event) => setIsOpen(event.currentTarget.open)}>
      <summary className="cursor-pointer select-none px-3 py-2 font-medium text-slate-700">Log</summary>
      <ol className="max-h-60 space-y-0.5 overflow-auto border-t border-slate-100 px-3 py-2 font-mono text-xs" aria-label={label}>
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
