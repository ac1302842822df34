"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useTransition } from "react";
import { toast } from "sonner";
import { copySharedFile, importDataset } from "@/app/(app)/uploads/actions";
import { formatBytes } from "@/lib/format";
import { queryKeys } from "../query-client";

export type DatasetSummary = { id: string; file: string; description: string; size: number; downloadUrl?: string };

/**
 * Files everyone can see, read-only: the sample datasets shipped with the app,
 * or the shared files (versions of admins' sources for everyone). Processing
 * one copies it into the person's files.
 */
export function DatasetList({ datasets, kind }: { datasets: DatasetSummary[]; kind: "sample" | "shared" }) {
  const queryClient = useQueryClient();
  const [isPending, startTransition] = useTransition();
  const copy = kind === "shared" ? copySharedFile : importDataset;
  const process = (dataset: DatasetSummary) =>
    startTransition(async () => {
      const outcome = await copy(dataset.id);
      if (outcome.formError) toast.error(outcome.formError);
      else toast.info(`Copied “${dataset.file}” into your files; processing`);
      await queryClient.invalidateQueries({ queryKey: queryKeys.uploads });
    });
  return (
    <ul className="grid grid-cols-1 gap-3 sm:grid-cols-2" aria-label={kind === "shared" ? "Shared files" : "Sample datasets"}>
      {datasets.map((dataset) => (
        <li
          key={dataset.id}
          data-testid="dataset"
          className="flex items-center justify-between gap-3 rounded-lg border border-slate-200 bg-white p-3 text-sm"
        >
          <div className="min-w-0">
            <p className="font-medium">{dataset.file}</p>
            <p className="text-slate-500">
              {dataset.description} · {formatBytes(dataset.size)}
              {dataset.downloadUrl && (
                <>
                  {" · "}
                  <a href={dataset.downloadUrl} className="text-indigo-700 hover:underline">
                    Download
                  </a>
                </>
              )}
            </p>
          </div>
          <button type="button" className="button shrink-0" disabled={isPending} onClick={() => process(dataset)}>
            Process
          </button>
        </li>
      ))}
    </ul>
  );
}
