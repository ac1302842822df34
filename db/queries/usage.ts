import { sql } from "drizzle-orm";
import type { Executor } from "../client";

export type UsageDay = { day: string; renders: number; wallMs: number; cpuMs: number; bytesWritten: number };
export type UsageTotals = Omit<UsageDay, "day"> & { attempts: number };
export type UserUsage = UsageTotals & { ownerId: string; email: string };

/** Finished renders of the current calendar month (UTC), from the results that record their cost. */
const thisMonth = sql`r.status = 'succeeded' and r.finished_at >= date_trunc('month', now())`;
// Each render wrote its PNG and its thumbnail.
const bytesWritten = sql`coalesce(r.image_bytes, 0) + coalesce((select b.size from blobs b where b.sha256 = r.thumbnail_sha256), 0)`;

/** A person's compute this month, per day (UTC), for the usage page. */
export async function getMonthlyUsage(executor: Executor, args: { ownerId: string }) {
  const days = await executor.execute<{ day: string; renders: number; wall_ms: string; cpu_ms: string; bytes_written: string }>(sql`
    select to_char(date_trunc('day', r.finished_at), 'YYYY-MM-DD') as day, count(*)::int as renders,
      sum(r.wall_ms) as wall_ms, sum(r.cpu_ms) as cpu_ms, sum(${bytesWritten}) as bytes_written
    from results r
    where r.owner_id = ${args.ownerId} and ${thisMonth}
    group by 1 order by 1`);
  const [totals] = await executor.execute<{ attempts: number }>(sql`
    select coalesce(sum(r.attempts), 0)::int as attempts from results r where r.owner_id = ${args.ownerId} and ${thisMonth}`);
  const perDay: UsageDay[] = [...days].map((row) => ({
    day: row.day,
    renders: row.renders,
    wallMs: Number(row.wall_ms ?? 0),
    cpuMs: Number(row.cpu_ms ?? 0),
    bytesWritten: Number(row.bytes_written ?? 0),
  }));
  const sum = (key: keyof Omit<UsageDay, "day">) => perDay.reduce((total, day) => total + day[key], 0);
  return {
    perDay,
    totals: { renders: sum("renders"), wallMs: sum("wallMs"), cpuMs: sum("cpuMs"), bytesWritten: sum("bytesWritten"), attempts: totals.attempts },
  };
}

/** Everyone's compute this month, for admins (page and CSV). */
export async function listMonthlyUsageByUser(executor: Executor): Promise<UserUsage[]> {
  const rows = await executor.execute<{ owner_id: string; email: string; renders: number; attempts: number; wall_ms: string; cpu_ms: string; bytes_written: string }>(sql`
    select r.owner_id, u.email, count(*)::int as renders, sum(r.attempts)::int as attempts,
      sum(r.wall_ms) as wall_ms, sum(r.cpu_ms) as cpu_ms, sum(${bytesWritten}) as bytes_written
    from results r join users u on u.id = r.owner_id
    where ${thisMonth}
    group by r.owner_id, u.email order by sum(r.cpu_ms) desc nulls last`);
  return [...rows].map((row) => ({
    ownerId: row.owner_id,
    email: row.email,
    renders: row.renders,
    attempts: row.attempts,
    wallMs: Number(row.wall_ms ?? 0),
    cpuMs: Number(row.cpu_ms ?? 0),
    bytesWritten: Number(row.bytes_written ?? 0),
  }));
}
