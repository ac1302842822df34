import { sql } from "drizzle-orm";
import type { Executor } from "../client";

/**
 * The one module that reads graphile-worker's tables: the public `jobs` view
 * and the crontab's last executions, outside transactions, for the admin
 * dashboard, the metrics and the autoscaler. The UI reads our rows.
 */
export type JobCount = { task: string; state: "running" | "queued" | "scheduled" | "failed"; count: number };

export async function countJobsByTaskAndState(executor: Executor): Promise<JobCount[]> {
  const rows = await executor.execute<JobCount>(sql`
    select task_identifier as task,
      case when locked_at is not null then 'running'
           when attempts >= max_attempts then 'failed'
           when run_at > now() then 'scheduled'
           else 'queued' end as state,
      count(*)::int as count
    from graphile_worker.jobs
    group by 1, 2
    order by 1, 2`);
  return [...rows];
}

/** When each crontab task last ran (graphile-worker records it per identifier, the task name by default). */
export async function listCrontabLastRuns(executor: Executor): Promise<Map<string, string | null>> {
  const rows = await executor.execute<{ identifier: string; lastRunAt: string | null }>(sql`
    select identifier, to_json(last_execution)#>>'{}' as "lastRunAt" from graphile_worker._private_known_crontabs`);
  return new Map(rows.map((row) => [row.identifier, row.lastRunAt]));
}

/**
 * A job waiting for a worker: not locked, attempts left, due. With running
 * (locked) jobs, what the workers of a task have to do now. These two texts are
 * the one definition of queue depth: the metrics below and the KEDA scalers in
 * deploy/kubernetes/ (kedaScalerQuery) are built from them.
 */
export const READY_JOB = "locked_at is null and attempts < max_attempts and run_at <= now()";
export const RUNNING_JOB = "locked_at is not null";

/** How long the metrics keep a reading of the queue's depth, so that scrapes do not each query Postgres. */
export const QUEUE_DEPTH_MAX_AGE_MS = 5_000;

export type QueueDepth = { task: string; readyJobs: number; runningJobs: number; oldestReadyJobAgeSeconds: number };

/**
 * Ready and running jobs per task, and how long the oldest ready job has been
 * due, for every task in `tasks` (0 when none) and any other task that has
 * jobs. One scan of the public jobs view: graphile-worker deletes finished
 * jobs, so it holds only the backlog and the permanently failed.
 */
export async function getQueueDepth(executor: Executor, tasks: readonly string[]): Promise<QueueDepth[]> {
  const rows = await executor.execute<QueueDepth>(
    sql.raw(`
    select task_identifier as task,
      count(*) filter (where ${READY_JOB})::int as "readyJobs",
      count(*) filter (where ${RUNNING_JOB})::int as "runningJobs",
      coalesce(extract(epoch from now() - min(run_at) filter (where ${READY_JOB})), 0)::float8 as "oldestReadyJobAgeSeconds"
    from graphile_worker.jobs
    where ${RUNNING_JOB} or (${READY_JOB})
    group by task_identifier`),
  );
  const byTask = new Map(tasks.map((task) => [task, { task, readyJobs: 0, runningJobs: 0, oldestReadyJobAgeSeconds: 0 }]));
  for (const row of rows) byTask.set(row.task, row);
  return [...byTask.values()].sort((a, b) => a.task.localeCompare(b.task));
}

/**
 * The query a KEDA PostgreSQL scaler runs for the workers of `tasks`: their
 * ready plus running jobs. Running jobs count so that a worker busy with a long
 * render is not scaled away (to zero for the large queue) once its job leaves
 * the ready count; divided by targetQueryValue (a worker's concurrency), it is
 * the number of workers the queue needs now.
 */
export function kedaScalerQuery(tasks: readonly string[]): string {
  const names = tasks.map((task) => `'${task.replaceAll("'", "''")}'`).join(", ");
  return `select count(*) from graphile_worker.jobs where task_identifier in (${names}) and (${RUNNING_JOB} or (${READY_JOB}))`;
}
