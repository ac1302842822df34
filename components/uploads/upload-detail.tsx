"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useTransition } from "react";
import { toast } from "sonner";
import { deleteUpload, reprocessUpload } from "@/app/(app)/uploads/actions";
import type { UploadView } from "@/db/queries/uploads";
import { formatBytes } from "@/lib/format";
import { JobLog } from "../job-log";
import { fetchJson, queryKeys } from "../query-client";
import { UploadSteps, UploadType } from "./upload-steps";

const POLL_MS = 1000;

/** A file's page: what it is, each step's outcome, downloads, re-run and delete. */
export function UploadDetail({ initial }: { initial: UploadView }) {
  const queryClient = useQueryClient();
  const [isPending, startTransition] = useTransition();
  const { data } = useQuery({
    queryKey: [...queryKeys.uploads, initial.id],
    queryFn: () => fetchJson<{ upload: UploadView }>(`/api/uploads/${initial.id}`),
    initialData: { upload: initial },
    refetchInterval: (query) => (query.state.data?.upload.isProcessed ? false : POLL_MS),
  });
  const upload = data.upload;

  const reprocess = () =>
    startTransition(async () => {
      const outcome = await reprocessUpload(upload.id);
      if (outcome.formError) toast.error(outcome.formError);
      await queryClient.invalidateQueries({ queryKey: queryKeys.uploads });
    });
  const remove = () => {
    if (!window.confirm(`Delete “${upload.name}”? Its bytes and thumbnail go too.`)) return;
    startTransition(async () => {
      const outcome = await deleteUpload(upload.id); // redirects to the list when it succeeds
      if (outcome.formError) toast.error(outcome.formError);
    });
  };

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-start gap-6">
        <div className="flex size-64 items-center justify-center overflow-hidden rounded-lg border border-slate-200 bg-slate-100">
          {upload.thumbnailSha256 ? (
            <img src={`/api/images/${upload.thumbnailSha256}`} alt={`Thumbnail of ${upload.name}`} className="max-h-full max-w-full" />
          ) : (
            <span className="text-sm text-slate-500">No thumbnail</span>
          )}
        </div>
        <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
          <dt className="text-slate-500">Size</dt>
          <dd>
            {formatBytes(upload.size)} ({upload.size.toLocaleString()} bytes)
          </dd>
          <dt className="text-slate-500">Type</dt>
          <dd>
            <UploadType upload={upload} />
          </dd>
          <dt className="text-slate-500">md5</dt>
          <dd className="font-mono" data-testid="upload-md5">
            {upload.md5 ?? "pending"}
          </dd>
          {upload.imageWidth && (
            <>
              <dt className="text-slate-500">Image</dt>
              <dd data-testid="image-size">
                {upload.imageWidth}x{upload.imageHeight}
              </dd>
            </>
          )}
          {upload.dataset && (
            <>
              <dt className="text-slate-500">From dataset</dt>
              <dd>{upload.dataset}</dd>
            </>
          )}
          <dt className="text-slate-500">Uploaded</dt>
          <dd>
            <time dateTime={upload.createdAt} suppressHydrationWarning>
              {new Date(upload.createdAt).toLocaleString()}
            </time>
          </dd>
        </dl>
      </div>

      <section className="space-y-2">
        <h2 className="font-medium">Processing</h2>
        <UploadSteps steps={upload.steps} />
        <ul className="space-y-1 text-sm">
          {upload.steps
            .filter((step) => step.message)
            .map((step) => (
              <li
                key={step.step}
                data-testid="upload-step-message"
                className={step.status === "failed" ? "text-red-700" : "text-slate-600"}
              >
                {step.step}: {step.message}
              </li>
            ))}
        </ul>
      </section>

      <div className="flex flex-wrap gap-3">
        <a className="button button-primary" href={`/api/uploads/${upload.id}/download`} download>
          Download original
        </a>
        {upload.thumbnailSha256 && (
          <a className="button" href={`/api/images/${upload.thumbnailSha256}`} download={`${upload.name}.thumbnail.webp`}>
            Download thumbnail
          </a>
        )}
        <button type="button" className="button" onClick={reprocess} disabled={isPending}>
          Process again
        </button>
        <button type="button" className="button text-red-700" onClick={remove} disabled={isPending}>
          Delete
        </button>
      </div>

      <JobLog
        url={`/api/uploads/${upload.id}/log`}
        isLive={!upload.isProcessed}
        version={upload.steps.map((step) => `${step.step}:${step.status}:${step.finishedAt}`).join()}
        label="Processing log"
      />
    </div>
  );
}
