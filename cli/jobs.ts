import { setTimeout as sleep } from "node:timers/promises";
import type { JobView, RenderView, UploadApiView } from "@/lib/api/schemas";
import type { ApiClient } from "./client";
import type { Context } from "./context";
import { CliError, EXIT, type ExitCode } from "./errors";
import { downloadTarget, fileNameFromDisposition, formatBytes, saveResponse } from "./files";
import { createProgress } from "./progress";

/** What several commands share: reading a job, waiting for it, and fetching what it made. */

const FINISHED = new Set<JobView["status"]>(["succeeded", "failed", "cancelled", "superseded"]);
export const isFinished = (status: JobView["status"]) => FINISHED.has(status);

export const getJob = (client: ApiClient, id: string) => client.get<JobView>(`/api/v1/jobs/${encodeURIComponent(id)}`);
export const getRender = (client: ApiClient, id: string) => client.get<RenderView>(`/api/v1/renders/${encodeURIComponent(id)}`);
export const getUpload = (client: ApiClient, id: string) => client.get<UploadApiView>(`/api/v1/uploads/${encodeURIComponent(id)}`);

const UNREACHABLE_GRACE_MS = 60_000;

/**
 * Polls the job (every 500 ms, slower when the rate-limit window runs low)
 * until it has finished, showing its progress on stderr. Ctrl-C stops watching,
 * not the job: it says how to cancel it. A server that stops answering is
 * retried for a minute.
 */
export async function waitForJob(context: Context, client: ApiClient, id: string): Promise<JobView> {
  let job = await getJob(client, id);
  const progress = createProgress(context.io.stderr, `${job.kind} ${id.slice(0, 8)}`);
  const onInterrupt = () => {
    progress.stop();
    context.note(`\nStopped watching; the job goes on. Cancel it with: longrun cancel ${id}`);
    process.exit(EXIT.interrupted);
  };
  process.once("SIGINT", onInterrupt);
  try {
    let unreachableSince: number | null = null;
    for (;;) {
      progress.update(job.progress, job.status, job.message);
      if (isFinished(job.status)) return job;
      await sleep(unreachableSince === null ? client.nextPollDelayMs() : 2000);
      try {
        job = await getJob(client, id);
        unreachableSince = null;
      } catch (error) {
        // A long watch outlives a server restart: keep trying for a while before giving up (exit 5).
        if (!(error instanceof CliError) || error.exitCode !== EXIT.unavailable) throw error;
        if (unreachableSince === null) context.note(`${error.message}; still trying`);
        unreachableSince ??= Date.now();
        if (Date.now() - unreachableSince > UNREACHABLE_GRACE_MS) throw error;
      }
    }
  } finally {
    progress.stop();
    process.off("SIGINT", onInterrupt);
  }
}

/** Saves a render's PNG or an upload's original bytes; `--output` is a file or a directory. */
export async function downloadJob(context: Context, client: ApiClient, job: Pick<JobView, "id" | "kind">, output: string | undefined) {
  const path = job.kind === "render" ? `/api/v1/renders/${job.id}/image` : `/api/v1/uploads/${job.id}/download`;
  const response = await client.request("GET", path, { headers: { Accept: "*/*" }, timeoutMs: null });
  const target = await downloadTarget({
    output,
    cwd: context.io.cwd,
    suggestedName: fileNameFromDisposition(response.headers.get("content-disposition")),
    fallbackName: job.kind === "render" ? `${job.id}.png` : job.id,
  }).catch(async (error: unknown) => {
    await response.body?.cancel();
    throw error;
  });
  const progress = createProgress(context.io.stderr, `download ${job.id.slice(0, 8)}`, { quiet: true });
  try {
    return await saveResponse(response, target, (received, total) => total && progress.update(received / total, formatBytes(received)));
  } finally {
    progress.stop();
  }
}

const took = (ms: number | null) => (ms === null ? "" : ms < 1000 ? ` in ${ms} ms` : ` in ${(ms / 1000).toFixed(1)} s`);

export function describeUpload(upload: UploadApiView) {
  return [upload.id, upload.status, upload.md5 ?? "-", upload.detectedType ?? "-", upload.name].join("\t");
}

/**
 * After waiting: a succeeded render's PNG is downloaded and its path printed;
 * an upload's final state is printed. Exit 1 unless it succeeded.
 */
export async function reportFinishedJob(context: Context, client: ApiClient, job: JobView, output: string | undefined): Promise<ExitCode> {
  if (job.kind === "upload") {
    const upload = await getUpload(client, job.id);
    context.printJson(upload);
    context.print(describeUpload(upload));
    if (upload.status !== "succeeded") context.note(`Processing of ${upload.name} failed: ${job.message ?? "see its page"}`);
    return upload.status === "succeeded" ? EXIT.ok : EXIT.jobFailed;
  }
  const render = await getRender(client, job.id);
  if (render.status !== "succeeded") {
    context.printJson(render);
    context.note(`Render ${render.id} ${render.status}${render.error ? `: ${render.error}` : render.message ? `: ${render.message}` : ""}`);
    return EXIT.jobFailed;
  }
  const saved = await downloadJob(context, client, render, output);
  context.printJson({ ...render, file: saved.path });
  context.print(saved.path);
  context.note(`Render ${render.id} succeeded${took(render.wallMs)}; saved ${formatBytes(saved.size)}`);
  return EXIT.ok;
}

export function requireKind(job: JobView, kind: JobView["kind"], what: string) {
  if (job.kind !== kind) throw new CliError(EXIT.refused, `${job.id} is ${job.kind === "upload" ? "an upload" : "a render"}; ${what}`);
}
