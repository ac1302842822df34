"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useRef } from "react";
import { toast } from "sonner";
import type { UploadView } from "@/db/queries/uploads";
import { formatBytes } from "@/lib/format";
import { fetchJson, queryKeys } from "../query-client";
import { UploadSteps, UploadType } from "./upload-steps";

const POLL_MS = 1000;

/** The person's files, polled while any is being processed; a toast says when one is done. */
export function UploadList({ initial }: { initial: UploadView[] }) {
  const { data } = useQuery({
    queryKey: queryKeys.uploads,
    queryFn: () => fetchJson<{ uploads: UploadView[] }>("/api/uploads"),
    initialData: { uploads: initial },
    refetchInterval: (query) => (query.state.data?.uploads.some((upload) => !upload.isProcessed) ? POLL_MS : false),
  });
  useProcessedToasts(data.uploads);

  if (data.uploads.length === 0) {
    return <p className="rounded-lg border border-dashed border-slate-300 p-8 text-center text-slate-600">No files yet.</p>;
  }
  return (
    <ul className="divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white" aria-label="Files">
      {data.uploads.map((upload) => (
        <li key={upload.id} data-testid="upload-item" className="flex gap-4 p-3">
          <div className="size-16 shrink-0 overflow-hidden rounded bg-slate-100">
            {upload.thumbnailSha256 && (
              <img src={`/api/images/${upload.thumbnailSha256}`} alt={`Thumbnail of ${upload.name}`} className="size-full object-cover" />
            )}
          </div>
          <div className="min-w-0 flex-1 space-y-1 text-sm">
            <Link href={`/uploads/${upload.id}`} className="block truncate font-medium text-indigo-700 hover:underline">
              {upload.name}
            </Link>
            <p className="text-slate-600">
              {formatBytes(upload.size)} · <UploadType upload={upload} /> ·{" "}
              <time dateTime={upload.createdAt} suppressHydrationWarning>
                {new Date(upload.createdAt).toLocaleString()}
              </time>
            </p>
            <p className="font-mono text-xs text-slate-500" data-testid="upload-md5">
              {upload.md5 ? `md5 ${upload.md5}` : "md5 pending"}
            </p>
            <UploadSteps steps={upload.steps} />
          </div>
        </li>
      ))}
    </ul>
  );
}

/** A toast for each file that finishes processing while the page is open (not for those done before). */
function useProcessedToasts(uploads: UploadView[]) {
  const announced = useRef<Set<string> | null>(null);
  useEffect(() => {
    if (!announced.current) {
      announced.current = new Set(uploads.filter((upload) => upload.isProcessed).map((upload) => upload.id));
      return;
    }
    for (const upload of uploads) {
      if (!upload.isProcessed || announced.current.has(upload.id)) continue;
      announced.current.add(upload.id);
      const failed = upload.steps.filter((step) => step.status === "failed").map((step) => step.step);
      if (failed.length) toast.warning(`“${upload.name}” processed; ${failed.join(", ")} failed`);
      else toast.success(`“${upload.name}” processed`);
    }
  }, [uploads]);
}
