import type { JobHelpers } from "graphile-worker";
import { z } from "zod";

/**
 * A task's payload parsed with its schema. A payload that fails can never
 * become valid (the job is the same on every attempt), so instead of
 * graphile-worker's retries (25 by default, over about three days) its job
 * fails for good now, with the reason as its last_error.
 */
export async function parsePayload<S extends z.ZodType>(schema: S, rawPayload: unknown, helpers: JobHelpers): Promise<z.output<S>> {
  const parsed = schema.safeParse(rawPayload);
  if (parsed.success) return parsed.data;
  // graphile-worker 0.17 cannot fail a running job permanently; with max_attempts down to the
  // attempts made, the failure it records next is final (the job stays, unlocked, for people to see).
  await helpers.withPgClient((client) =>
    client.query("update graphile_worker._private_jobs set max_attempts = attempts where id = $1", [helpers.job.id]),
  );
  const reason = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(payload)"}: ${issue.message}`).join("; ");
  throw new Error(`Invalid ${helpers.job.task_identifier} payload (not retried): ${reason}`);
}
