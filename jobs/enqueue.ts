import { sql } from "drizzle-orm";
import type { Executor } from "@/db";
import { taskPayloads, type TaskName, type TaskPayload } from "./payloads";
import { requireAddedJobId } from "./workarounds/graphile-worker-add-job-null";

export type EnqueueOptions = {
  jobKey?: string;
  jobKeyMode?: "replace" | "preserve_run_at" | "unsafe_dedupe";
  priority?: number;
  maxAttempts?: number;
  runAt?: Date;
  queueName?: string;
};

/**
 * The only way the app adds jobs: graphile_worker.add_job in the caller's
 * transaction, so the row a person watches and its job commit together.
 */
export async function enqueue<T extends TaskName>(
  tx: Executor,
  task: T,
  payload: TaskPayload<T>,
  options: EnqueueOptions = {},
): Promise<{ jobId: string }> {
  const parsed = taskPayloads[task].parse(payload);
  // ::json, not jsonb: add_job has no jsonb overload.
  const rows = await tx.execute<{ id: string | null }>(sql`
    select id::text from graphile_worker.add_job(
      identifier => ${task},
      payload => ${JSON.stringify(parsed)}::json,
      queue_name => ${options.queueName ?? null},
      run_at => ${options.runAt?.toISOString() ?? null}::timestamptz,
      max_attempts => ${options.maxAttempts ?? null}::int,
      job_key => ${options.jobKey ?? null},
      priority => ${options.priority ?? null}::int,
      job_key_mode => ${options.jobKeyMode ?? null}
    )`);
  const jobId = requireAddedJobId(rows[0]?.id, `${task} (job key ${options.jobKey ?? "none"})`);
  return { jobId };
}

/** Removes a queued job by key; a job already running loses its key and will not retry. */
export async function removeJob(tx: Executor, jobKey: string) {
  await tx.execute(sql`select graphile_worker.remove_job(${jobKey})`);
}
