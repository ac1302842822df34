import type { JobHelpers } from "graphile-worker";
import { z } from "zod";
import { endRetries } from "./workarounds/graphile-worker-permanent-failure";

/**
 * A task's payload parsed with its schema. A payload that fails can never
 * become valid (the job is the same on every attempt), so instead of
 * graphile-worker's retries (25 by default, over about three days) its job
 * fails for good now, with the reason as its last_error.
 */
export async function parsePayload<S extends z.ZodType>(schema: S, rawPayload: unknown, helpers: JobHelpers): Promise<z.output<S>> {
  const parsed = schema.safeParse(rawPayload);
  if (parsed.success) return parsed.data;
  await endRetries(helpers);
  const reason = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(payload)"}: ${issue.message}`).join("; ");
  throw new Error(`Invalid ${helpers.job.task_identifier} payload (not retried): ${reason}`);
}
