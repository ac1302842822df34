"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useDropzone } from "@uploadthing/react";
import { useState } from "react";
import { formatBytes } from "@/lib/format";
import { queryKeys } from "../query-client";
import { sendFile, type UploadBackend } from "./send-file";

type Transfer = { key: string; name: string; size: number; progress: number; error?: string; done?: boolean };

/**
 * Drop or pick files; each gets its own progress bar while its bytes travel.
 * The same component serves both back-ends (the local store, UploadThing).
 */
export function UploadDropzone({ backend, maxBytes }: { backend: UploadBackend; maxBytes: number }) {
  const queryClient = useQueryClient();
  const [transfers, setTransfers] = useState<Transfer[]>([]);
  const update = (key: string, change: Partial<Transfer>) =>
    setTransfers((current) => current.map((transfer) => (transfer.key === key ? { ...transfer, ...change } : transfer)));

  const start = (files: File[]) => {
    const started = files.map((file) => ({ file, key: `${file.name}-${file.size}-${Math.random().toString(36).slice(2)}` }));
    setTransfers((current) => [...started.map(({ file, key }) => ({ key, name: file.name, size: file.size, progress: 0 })), ...current]);
    for (const { file, key } of started) {
      if (file.size > maxBytes) {
        update(key, { error: `Larger than the ${formatBytes(maxBytes)} limit` });
        continue;
      }
      sendFile(backend, file, (progress) => update(key, { progress }))
        .then(() => {
          update(key, { progress: 1, done: true });
          return queryClient.invalidateQueries({ queryKey: queryKeys.uploads });
        })
        .catch((error: Error) => update(key, { error: error.message }));
    }
  };

  const { getRootProps, getInputProps, isDragActive } = useDropzone({ onDrop: start, multiple: true });

  return (
    <section className="space-y-3">
      <div
        {...getRootProps()}
        data-testid="dropzone"
        className={`flex cursor-pointer flex-col items-center justify-center rounded-lg border-2 border-dashed p-8 text-center ${
          isDragActive ? "border-indigo-400 bg-indigo-50" : "border-slate-300 bg-white hover:border-indigo-300"
        }`}
      >
        <input {...getInputProps()} aria-label="Choose files to upload" />
        <p className="font-medium text-slate-800">Drop files here, or click to choose</p>
        <p className="mt-1 text-sm text-slate-500">
          Up to {formatBytes(maxBytes)} each. Every file gets an md5, its real type and, for images, a thumbnail.
        </p>
      </div>
      {transfers.length > 0 && (
        <ul className="space-y-2" aria-label="Transfers">
          {transfers.map((transfer) => (
            <li key={transfer.key} data-testid="transfer" className="rounded-md border border-slate-200 bg-white px-3 py-2 text-sm">
              <div className="flex justify-between gap-4">
                <span className="truncate">{transfer.name}</span>
                <span className={transfer.error ? "text-red-700" : "text-slate-500"}>
                  {transfer.error ??
                    (transfer.done ? "Uploaded" : `${Math.floor(transfer.progress * 100)}% of ${formatBytes(transfer.size)}`)}
                </span>
              </div>
              {!transfer.error && !transfer.done && (
                <progress
                  className="mt-1 h-1.5 w-full"
                  max={1}
                  value={transfer.progress}
                  aria-label={`Upload progress of ${transfer.name}`}
                />
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
