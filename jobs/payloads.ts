import { z } from "zod";
import { DEFAULT_LARGE_RENDER_PIXELS } from "@/lib/tiers";

/**
 * Payload schemas of every task, by task identifier. The web imports only this
 * (through enqueue.ts), so it never pulls the renderer or sharp into its bundle;
 * each task's handler parses its payload with the same schema.
 */
const renderPayload = z.object({ resultId: z.uuid() });
const uploadStepPayload = z.object({ uploadId: z.uuid() });

export const taskPayloads = {
  render: renderPayload,
  /** The same render, for the dedicated queue of workers started with `--only large`. */
  render_large: renderPayload,
  /** The processing steps of an upload, each its own job: they run and finish in any order. */
  upload_checksum: uploadStepPayload,
  upload_type: uploadStepPayload,
  /** Added by upload_type when the bytes are an image. */
  upload_thumbnail: uploadStepPayload,
  /** Cron jobs carry graphile-worker's `_cron` details, which we do not need. */
  housekeeping: z.looseObject({}),
  run_schedules: z.looseObject({}),
  check_sources: z.looseObject({}),
  roll_up_usage: z.looseObject({}),
} as const;

export type TaskName = keyof typeof taskPayloads;
export type TaskPayload<T extends TaskName> = z.infer<(typeof taskPayloads)[T]>;

/** Which tasks a worker runs: `npm run worker -- --only large` for the special-hardware queue. */
export const TASK_GROUPS = {
  standard: [
    "render",
    "upload_checksum",
    "upload_type",
    "upload_thumbnail",
    "housekeeping",
    "run_schedules",
    "check_sources",
    "roll_up_usage",
  ],
  large: ["render_large"],
} as const satisfies Record<string, TaskName[]>;
export type TaskGroup = keyof typeof TASK_GROUPS;

/** Renders retry with graphile-worker's exponential backoff; a render that fails 5 times is failed. */
export const RENDER_MAX_ATTEMPTS = 5;

/** One job key per configuration: a new save replaces its queued render. */
export const renderJobKey = (configurationId: string) => `render:configuration:${configurationId}`;

/** Upload steps retry twice on errors worth retrying (a database hiccup); bad content fails at once. */
export const UPLOAD_STEP_MAX_ATTEMPTS = 3;

export const UPLOAD_STEP_TASKS = { checksum: "upload_checksum", type: "upload_type", thumbnail: "upload_thumbnail" } as const;
export type UploadStep = keyof typeof UPLOAD_STEP_TASKS;

/** One job key per upload step: re-running processing replaces a queued step instead of adding one. */
export const uploadStepJobKey = (uploadId: string, step: UploadStep) => `upload:${uploadId}:${step}`;

/** Renders above the threshold go to the dedicated queue (workers started with --only large). */
export function renderTaskFor(params: { width: number; height: number }, largeRenderPixels = DEFAULT_LARGE_RENDER_PIXELS) {
  return params.width * params.height > largeRenderPixels ? ("render_large" as const) : ("render" as const);
}
