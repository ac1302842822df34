"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useTransition } from "react";
import { toast } from "sonner";
import { importDatasetAction } from "@/app/(app)/uploads/actions";
import { formatBytes } from "@/lib/format";
import { queryKeys } from "../query-client";

export type DatasetSummary = { id: string; file: string; description: string; size: number };

/** The sample datasets everyone can see; processing one copies it into the person's files. */
export function DatasetList({ datasets }: { datasets: DatasetSummary[] }) {
  const queryClient = useQueryClient();
  const [isPending, startTransition] = useTransition();
  const process = (dataset: DatasetSummary) =>
    startTransition(async () => {
      const outcome = await importDatasetAction(dataset.id);
      if (!outcome.ok) toast.error(outcome.error);
      else toast.info(`Copied “${dataset.file}” into your files; processing`);
      await queryClient.invalidateQueries({ queryKey: queryKeys.uploads });
    });
  return (
    <ul className="grid grid-cols-1 gap-3 sm:grid-cols-2" aria-label="Sample datasets">
      {datasets.map((dataset) => (
        <li key={dataset.id} data-testid="dataset" className="flex items-center justify-between gap-3 rounded-lg border border-slate-200 bg-white p-3 text-sm">
          <div className="min-w-0">
            <p className="font-medium">{dataset.file}</p>
            <p className="text-slate-500">
              {dataset.description} · {formatBytes(dataset.size)}
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
