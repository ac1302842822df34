import { and, asc, eq, sql } from "drizzle-orm";
import type { Executor } from "../client";
import { jobLogs, results, type LogLevel } from "../schema";

export async function appendJobLog(executor: Executor, args: { resultId: string; level?: LogLevel; message: string }) {
  await executor.insert(jobLogs).values({ resultId: args.resultId, level: args.level ?? "info", message: args.message });
}

export type JobLogLine = { id: number; level: LogLevel; message: string; at: string };

/** A result's log, oldest first, only for its owner. */
export async function listJobLog(executor: Executor, args: { resultId: string; ownerId: string }): Promise<JobLogLine[] | null> {
  const [owned] = await executor
    .select({ id: results.id })
    .from(results)
    .where(and(eq(results.id, args.resultId), eq(results.ownerId, args.ownerId)));
  if (!owned) return null;
  const lines = await executor
    .select({ id: jobLogs.id, level: jobLogs.level, message: jobLogs.message, at: jobLogs.createdAt })
    .from(jobLogs)
    .where(eq(jobLogs.resultId, args.resultId))
    .orderBy(asc(jobLogs.id))
    .limit(500);
  return lines.map((line) => ({ ...line, at: line.at.toISOString() }));
}

/** Log lines older than the retention period go, whatever their result. */
export async function expireJobLogs(executor: Executor, args: { retentionDays: number }) {
  const expired = await executor
    .delete(jobLogs)
    .where(sql`${jobLogs.createdAt} < now() - make_interval(days => ${args.retentionDays})`)
    .returning({ id: jobLogs.id });
  return expired.length;
}
