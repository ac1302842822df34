import { sql } from "drizzle-orm";
import type { Executor } from "../client";

/**
 * The one module that reads graphile-worker's tables: the public `jobs` view
 * and the crontab's last executions, outside transactions, for the admin
 * dashboard. The UI reads our rows.
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
