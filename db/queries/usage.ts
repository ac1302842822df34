import { sql } from "drizzle-orm";
import type { Executor } from "../client";

export type UsageKind = "render" | "upload";
export type UsageFigures = { jobs: number; attempts: number; wallMs: number; cpuMs: number; bytesRead: number; bytesWritten: number };
export type UsageDay = { day: string; renderCpuMs: number; uploadCpuMs: number };
export type UserUsage = { ownerId: string; email: string; renders: number; uploadSteps: number } & Omit<UsageFigures, "jobs">;

/**
 * What each job of the current calendar month (UTC) cost, from the rows that
 * record it: finished renders (their PNG and thumbnail written), renders
 * stopped early (cancelled or superseded: the CPU they had spent), and finished
 * upload steps (bytes read and written). A deleted upload takes its steps' costs with it.
 */
const monthCosts = sql`
  select r.owner_id, 'render' as kind, r.finished_at, r.wall_ms, r.cpu_ms, r.attempts, 0::bigint as bytes_read,
    coalesce(r.image_bytes, 0) + coalesce((select b.size from blobs b where b.sha256 = r.thumbnail_sha256), 0) as bytes_written
  from results r
  where (r.status = 'succeeded' or (r.status in ('cancelled', 'superseded') and r.cpu_ms is not null))
    and r.finished_at >= date_trunc('month', now())
  union all
  select u.owner_id, 'upload', s.finished_at, s.wall_ms, s.cpu_ms, s.attempts, coalesce(s.bytes_read, 0), coalesce(s.bytes_written, 0)
  from upload_steps s join uploads u on u.id = s.upload_id
  where s.status in ('succeeded', 'failed') and s.finished_at >= date_trunc('month', now())`;

const figures = sql`count(*)::int as jobs, coalesce(sum(attempts), 0)::int as attempts, coalesce(sum(wall_ms), 0)::bigint as wall_ms,
  coalesce(sum(cpu_ms), 0)::bigint as cpu_ms, coalesce(sum(bytes_read), 0)::bigint as bytes_read, coalesce(sum(bytes_written), 0)::bigint as bytes_written`;

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
      select kind, ${figures} from (${monthCosts}) c where c.owner_id = ${args.ownerId} group by kind`),
    executor.execute<{ day: string; render_cpu_ms: string; upload_cpu_ms: string }>(sql`
      select to_char(date_trunc('day', finished_at), 'YYYY-MM-DD') as day,
        coalesce(sum(cpu_ms) filter (where kind = 'render'), 0)::bigint as render_cpu_ms,
        coalesce(sum(cpu_ms) filter (where kind = 'upload'), 0)::bigint as upload_cpu_ms
      from (${monthCosts}) c where c.owner_id = ${args.ownerId} group by 1 order by 1`),
  ]);
  const byKind = {
    render: toFigures(kinds.find((row) => row.kind === "render")),
    upload: toFigures(kinds.find((row) => row.kind === "upload")),
  };
  const perDay: UsageDay[] = [...days].map((row) => ({ day: row.day, renderCpuMs: Number(row.render_cpu_ms), uploadCpuMs: Number(row.upload_cpu_ms) }));
  return { byKind, perDay };
}

/** Everyone's compute this month, for admins (page and CSV). */
export async function listMonthlyUsageByUser(executor: Executor): Promise<UserUsage[]> {
  const rows = await executor.execute<FigureRow & { owner_id: string; email: string; renders: number; upload_steps: number }>(sql`
    select c.owner_id, u.email, count(*) filter (where kind = 'render')::int as renders,
      count(*) filter (where kind = 'upload')::int as upload_steps, ${figures}
    from (${monthCosts}) c join users u on u.id = c.owner_id
    group by c.owner_id, u.email order by sum(c.cpu_ms) desc nulls last`);
  return [...rows].map((row) => {
    const { jobs: _jobs, ...rest } = toFigures(row);
    return { ownerId: row.owner_id, email: row.email, renders: row.renders, uploadSteps: row.upload_steps, ...rest };
  });
}
