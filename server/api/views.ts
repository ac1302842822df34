import type { RenderRow } from "@/db/queries/results";
import type { UploadView } from "@/db/queries/uploads";
import type { JobStatus, JobView, RenderView, UploadApiView } from "@/lib/api/schemas";

/**
 * The Jobs API's JSON for rows of the database: the only place its links are made.
 * Every `links` entry is a Jobs API route the same token may fetch; the web app's
 * page for a person's browser is `webPage`, outside `links`.
 */
export const API_BASE = "/api/v1";

const iso = (time: Date | null) => time?.toISOString() ?? null;

export function toRenderView(row: RenderRow): RenderView {
  return {
    id: row.id,
    kind: "render",
    configurationId: row.configurationId,
    configurationName: row.configurationName,
    status: row.status,
    progress: row.progress,
    message: row.message,
    error: row.error,
    attempts: row.attempts,
    params: row.params,
    queuedAt: row.queuedAt.toISOString(),
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    wallMs: row.wallMs,
    cpuMs: row.cpuMs,
    webPage: `/configurations/${row.configurationId}`,
    links: {
      self: `${API_BASE}/renders/${row.id}`,
      image: row.status === "succeeded" ? `${API_BASE}/renders/${row.id}/image` : null,
    },
  };
}

/** An upload is as far as its least finished step: failed only once every step has finished. */
function uploadStatus(upload: UploadView): UploadApiView["status"] {
  const statuses = upload.steps.map((step) => step.status);
  if (upload.isProcessed) return statuses.includes("failed") ? "failed" : "succeeded";
  return statuses.some((status) => status !== "queued") ? "running" : "queued";
}

export function toUploadView(upload: UploadView): UploadApiView {
  return {
    id: upload.id,
    kind: "upload",
    name: upload.name,
    size: upload.size,
    declaredType: upload.declaredType,
    detectedType: upload.detectedType,
    md5: upload.md5,
    imageWidth: upload.imageWidth,
    imageHeight: upload.imageHeight,
    status: uploadStatus(upload),
    steps: upload.steps.map((step) => ({ ...step, finishedAt: step.finishedAt && new Date(step.finishedAt).toISOString() })),
    createdAt: upload.createdAt,
    webPage: `/uploads/${upload.id}`,
    links: {
      self: `${API_BASE}/uploads/${upload.id}`,
      download: `${API_BASE}/uploads/${upload.id}/download`,
      thumbnail: upload.thumbnailSha256 ? `${API_BASE}/uploads/${upload.id}/thumbnail` : null,
    },
  };
}

export function renderAsJob(render: RenderView): JobView {
  return {
    id: render.id,
    kind: "render",
    status: render.status,
    progress: render.progress,
    message: render.error ?? render.message,
    createdAt: render.queuedAt,
    finishedAt: render.finishedAt,
    links: { self: `${API_BASE}/jobs/${render.id}`, resource: render.links.self },
  };
}

export function uploadAsJob(upload: UploadApiView): JobView {
  const finished = upload.steps.filter((step) => step.finishedAt !== null);
  const failed = upload.steps.filter((step) => step.status === "failed");
  const status: JobStatus = upload.status;
  return {
    id: upload.id,
    kind: "upload",
    status,
    progress: upload.steps.length === 0 ? 0 : finished.length / upload.steps.length,
    message:
      failed.length > 0
        ? failed.map((step) => `${step.step}: ${step.message}`).join("; ")
        : `${finished.length} of ${upload.steps.length} steps done`,
    createdAt: upload.createdAt,
    finishedAt:
      status === "succeeded" || status === "failed"
        ? (finished
            .map((step) => step.finishedAt!)
            .sort()
            .at(-1) ?? null)
        : null,
    links: { self: `${API_BASE}/jobs/${upload.id}`, resource: upload.links.self },
  };
}
