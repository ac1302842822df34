import { sql, type SQL } from "drizzle-orm";
import type { Executor } from "../client";

export type UsageKind = "render" | "upload";
export type UsageFigures = { jobs: number; attempts: number; wallMs: number; cpuMs: number; bytesRead: number; bytesWritten: number };
export type UsageDay = { day: string; renderCpuMs: number; uploadCpuMs: number };
export type UserUsage = { ownerId: string; email: string; renders: number; uploadSteps: number } & Omit<UsageFigures, "jobs">;

/** Days are UTC calendar days, whatever the session's time zone. */
const UTC_TODAY = sql`(now() at time zone 'utc')::date`;
const MONTH_START = sql`date_trunc('month', now() at time zone 'utc')::date`;
const utcMidnight = (day: SQL) => sql`((${day})::timestamp at time zone 'utc')`;

/**
 * The last day whose roll-up is final: rolled up at least 5 minutes after the
 * day ended, so no job that finished that day was still committing. Days up to
 * it are read from usage_daily; later ones are computed from the rows.
 */
const ROLLED_THROUGH = sql`(select max(day) from usage_rollups where rolled_up_at >= ${utcMidnight(sql`day + 1`)} + interval '5 minutes')`;

/**
 * One row per finished job since `since`, with what it cost: finished renders
 * (their PNG and thumbnail written), renders stopped early (cancelled or
 * superseded: the CPU they had spent), and finished upload steps (bytes read and written).
 */
const jobCosts = (since: SQL) => sql`
  select r.owner_id, 'render' as kind, (r.finished_at at time zone 'utc')::date as day, r.wall_ms, r.cpu_ms, r.attempts, 0::bigint as bytes_read,
    coalesce(r.image_bytes, 0) + coalesce((select b.size from blobs b where b.sha256 = r.thumbnail_sha256), 0) as bytes_written
  from results r
  where (r.status = 'succeeded' or (r.status in ('cancelled', 'superseded') and r.cpu_ms is not null))
    and r.finished_at >= ${since}
  union all
  select u.owner_id, 'upload', (s.finished_at at time zone 'utc')::date, s.wall_ms, s.cpu_ms, s.attempts, coalesce(s.bytes_read, 0), coalesce(s.bytes_written, 0)
  from upload_steps s join uploads u on u.id = s.upload_id
  where s.status in ('succeeded', 'failed') and s.finished_at >= ${since}`;

const dailyTotals = (since: SQL) => sql`
  select owner_id, kind, day, count(*)::int as jobs, coalesce(sum(attempts), 0)::int as attempts, coalesce(sum(wall_ms), 0)::bigint as wall_ms,
    coalesce(sum(cpu_ms), 0)::bigint as cpu_ms, coalesce(sum(bytes_read), 0)::bigint as bytes_read, coalesce(sum(bytes_written), 0)::bigint as bytes_written
  from (${jobCosts(since)}) j group by owner_id, kind, day`;

/** This month's totals per person, kind and day: final days from the roll-up, the rest live. */
const monthTotals = sql`
  select owner_id, kind, day, jobs, attempts, wall_ms, cpu_ms, bytes_read, bytes_written from usage_daily
  where day >= ${MONTH_START} and day <= ${ROLLED_THROUGH}
  union all
  (${dailyTotals(utcMidnight(sql`greatest(${MONTH_START}, ${ROLLED_THROUGH} + 1)`))})`;

const figures = sql`coalesce(sum(jobs), 0)::int as jobs, coalesce(sum(attempts), 0)::int as attempts, coalesce(sum(wall_ms), 0)::bigint as wall_ms,
  coalesce(sum(cpu_ms), 0)::bigint as cpu_ms, coalesce(sum(bytes_read), 0)::bigint as bytes_read, coalesce(sum(bytes_written), 0)::bigint as bytes_written`;

/**
 * The roll_up_usage cron task: recomputes usage_daily for every day after the
 * last final one (all history on the first run) up to today, and notes each
 * day as rolled up. Runs one at a time; returns the days it rolled up.
 */
export async function rollUpUsage(executor: Executor) {
  return executor.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('roll_up_usage'))`);
    const [{ from }] = await tx.execute<{ from: string }>(sql`
      select coalesce(${ROLLED_THROUGH} + 1, least(
        (select min(finished_at) from results), (select min(finished_at) from upload_steps), now()) at time zone 'utc')::date::text as from`);
    await tx.execute(sql`delete from usage_daily where day >= ${from}::date`);
    await tx.execute(sql`
      insert into usage_daily (owner_id, kind, day, jobs, attempts, wall_ms, cpu_ms, bytes_read, bytes_written)
      ${dailyTotals(utcMidnight(sql`${from}::date`))}`);
    const days = await tx.execute<{ day: string }>(sql`
      insert into usage_rollups (day, rolled_up_at)
      select generate_series(${from}::date, ${UTC_TODAY}, interval '1 day')::date, now()
      on conflict (day) do update set rolled_up_at = excluded.rolled_up_at
      returning day::text`);
    return days.map((row) => row.day);
  });
}

type FigureRow = { jobs: number; attempts: number; wall_ms: string; cpu_ms: string; bytes_read: string; bytes_written: string };
const toFigures = (row: FigureRow | undefined): UsageFigures => ({
  jobs: row?.jobs ?? 0,
  attempts: row?.attempts ?? 0,
  wallMs: Number(row?.wall_ms ?? 0),
  cpuMs: Number(row?.cpu_ms ?? 0),
  bytesRead: Number(row?.bytes_read ?? 0),
  bytesWritten: Number(row?.bytes_written ?? 0),
});

/** A person's compute this month, by kind and per day (UTC), for the usage page. */
export async function getMonthlyUsage(executor: Executor, args: { ownerId: string }) {
  const [kinds, days] = await Promise.all([
    executor.execute<FigureRow & { kind: UsageKind }>(sql`
      select kind, ${figures} from (${monthTotals}) c where c.owner_id = ${args.ownerId} group by kind`),
    executor.execute<{ day: string; render_cpu_ms: string; upload_cpu_ms: string }>(sql`
      select to_char(day, 'YYYY-MM-DD') as day,
        coalesce(sum(cpu_ms) filter (where kind = 'render'), 0)::bigint as render_cpu_ms,
        coalesce(sum(cpu_ms) filter (where kind = 'upload'), 0)::bigint as upload_cpu_ms
      from (${monthTotals}) c where c.owner_id = ${args.ownerId} group by 1 order by 1`),
  ]);
  const byKind = {
    render: toFigures(kinds.find((row) => row.kind === "render")),
    upload: toFigures(kinds.find((row) => row.kind === "upload")),
  };
  const perDay: UsageDay[] = [...days].map((row) => ({
    day: row.day,
    renderCpuMs: Number(row.render_cpu_ms),
    uploadCpuMs: Number(row.upload_cpu_ms),
  }));
  return { byKind, perDay };
}

/** Everyone's compute this month, for admins (page and CSV). */
export async function listMonthlyUsageByUser(executor: Executor): Promise<UserUsage[]> {
  const rows = await executor.execute<FigureRow & { owner_id: string; email: string; renders: number; upload_steps: number }>(sql`
    select c.owner_id, u.email, coalesce(sum(jobs) filter (where kind = 'render'), 0)::int as renders,
      coalesce(sum(jobs) filter (where kind = 'upload'), 0)::int as upload_steps, ${figures}
    from (${monthTotals}) c join users u on u.id = c.owner_id
    group by c.owner_id, u.email order by sum(c.cpu_ms) desc nulls last`);
  return [...rows].map((row) => {
    const { jobs: _jobs, ...rest } = toFigures(row);
    return { ownerId: row.owner_id, email: row.email, renders: row.renders, uploadSteps: row.upload_steps, ...rest };
  });
}
