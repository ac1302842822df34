import { sql } from "drizzle-orm";
import type { Executor } from "../client";
import type { UploadStepName } from "../schema/uploads";
import { Cron } from "croner";
import { CRON_ITEMS } from "@/jobs/crontab";
import { countJobsByTaskAndState, listCrontabLastRuns, type JobCount } from "./queue";

export type RunningRender = {
  id: string;
  email: string;
  configurationName: string;
  progress: number;
  workerId: string | null;
  startedAt: string;
  elapsedMs: number;
};
export type FailedRender = {
  id: string;
  email: string;
  configurationName: string;
  error: string | null;
  attempts: number;
  finishedAt: string;
};
export type UploadStepRow = {
  uploadId: string;
  name: string;
  email: string;
  step: UploadStepName;
  status: "running" | "failed";
  message: string | null;
  workerId: string | null;
  at: string;
  elapsedMs: number | null;
};
export type WorkerRow = {
  id: string;
  host: string;
  pid: number;
  concurrency: number;
  tasks: string[];
  startedAt: string;
  lastSeenAt: string;
  isAlive: boolean;
};
export type MinuteBucket = { at: string; queued: number; finished: number; avgWaitMs: number | null; avgRunMs: number | null };

export type CrontabRow = { task: string; pattern: string; lastRunAt: string | null; nextRunAt: string | null };

export type DashboardOverview = {
  jobs: JobCount[];
  crontab: CrontabRow[];
  running: RunningRender[];
  failures: FailedRender[];
  /** Upload steps running now, and the latest that failed. */
  uploadSteps: UploadStepRow[];
  workers: WorkerRow[];
  lastHour: MinuteBucket[];
};

/** What is happening right now, for admins: a handful of small queries, read outside transactions. */
export async function getDashboardOverview(executor: Executor, args: { staleAfterMs: number }): Promise<DashboardOverview> {
  const [jobs, lastRuns, running, failures, uploadSteps, workers, lastHour] = await Promise.all([
    countJobsByTaskAndState(executor),
    listCrontabLastRuns(executor),
    executor.execute<RunningRender>(sql`
      select r.id, u.email, c.name as "configurationName", r.progress, r.worker_id as "workerId",
        r.started_at as "startedAt", (extract(epoch from now() - r.started_at) * 1000)::int as "elapsedMs"
      from results r join users u on u.id = r.owner_id join configurations c on c.id = r.configuration_id
      where r.status = 'running' order by r.started_at limit 100`),
    executor.execute<FailedRender>(sql`
      select r.id, u.email, c.name as "configurationName", r.error, r.attempts, r.finished_at as "finishedAt"
      from results r join users u on u.id = r.owner_id join configurations c on c.id = r.configuration_id
      where r.status = 'failed' order by r.finished_at desc limit 20`),
    executor.execute<UploadStepRow>(sql`
      (select s.upload_id as "uploadId", up.name, u.email, s.step, s.status, s.message, s.worker_id as "workerId",
         s.started_at as at, (extract(epoch from now() - s.started_at) * 1000)::int as "elapsedMs"
       from upload_steps s join uploads up on up.id = s.upload_id join users u on u.id = up.owner_id
       where s.status = 'running' order by s.started_at limit 50)
      union all
      (select s.upload_id, up.name, u.email, s.step, s.status, s.message, s.worker_id, s.finished_at, null
       from upload_steps s join uploads up on up.id = s.upload_id join users u on u.id = up.owner_id
       where s.status = 'failed' order by s.finished_at desc limit 20)`),
    executor.execute<WorkerRow>(sql`
      select id, host, pid, concurrency, tasks, started_at as "startedAt", last_seen_at as "lastSeenAt",
        last_seen_at > now() - make_interval(secs => ${args.staleAfterMs / 1000}) as "isAlive"
      from worker_heartbeats order by started_at`),
    // Queue depth per 5 minutes over the last hour, rebuilt from our rows' timestamps.
    executor.execute<MinuteBucket>(sql`
      with buckets as (
        select generate_series(now() - interval '55 minutes', now(), interval '5 minutes') as at)
      select to_char(b.at, 'HH24:MI') as at,
        (select count(*)::int from results r where r.queued_at <= b.at and coalesce(r.started_at, r.finished_at, 'infinity') > b.at) as queued,
        (select count(*)::int from results r where r.finished_at > b.at - interval '5 minutes' and r.finished_at <= b.at) as finished,
        (select avg(extract(epoch from r.started_at - r.queued_at) * 1000)::int from results r
           where r.started_at > b.at - interval '5 minutes' and r.started_at <= b.at) as "avgWaitMs",
        (select avg(r.wall_ms)::int from results r
           where r.status = 'succeeded' and r.finished_at > b.at - interval '5 minutes' and r.finished_at <= b.at) as "avgRunMs"
      from buckets b order by b.at`),
  ]);
  const crontab = CRON_ITEMS.map((item) => ({
    task: item.task,
    pattern: item.pattern,
    lastRunAt: lastRuns.get(item.task) ?? null,
    nextRunAt: new Cron(item.pattern, { timezone: "UTC" }).nextRun()?.toISOString() ?? null,
  }));
  return {
    jobs,
    crontab,
    running: [...running],
    failures: [...failures],
    uploadSteps: [...uploadSteps],
    workers: [...workers],
    lastHour: [...lastHour],
  };
}

/** Counts for Prometheus: the queue, renders by status, workers by heartbeat. */
export async function getQueueMetrics(executor: Executor, args: { staleAfterMs: number }) {
  const [jobs, results, [workers]] = await Promise.all([
    countJobsByTaskAndState(executor),
    executor.execute<{ status: string; count: number }>(sql`select status, count(*)::int as count from results group by status`),
    executor.execute<{ alive: number; lost: number }>(sql`
      select count(*) filter (where last_seen_at > now() - make_interval(secs => ${args.staleAfterMs / 1000}))::int as alive,
             count(*) filter (where last_seen_at <= now() - make_interval(secs => ${args.staleAfterMs / 1000}))::int as lost
      from worker_heartbeats`),
  ]);
  return { jobs, results: [...results], workersAlive: workers.alive, workersLost: workers.lost };
}
