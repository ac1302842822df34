import { and, desc, eq, sql } from "drizzle-orm";
import type { Executor } from "../client";
import { jobLogs, results, uploads, type LogLevel } from "../schema";

/** The log a line belongs to: a result's or an upload's. */
export type LogSubject = { resultId: string; uploadId?: never } | { uploadId: string; resultId?: never };

export async function appendJobLog(executor: Executor, args: LogSubject & { level?: LogLevel; message: string }) {
  await executor
    .insert(jobLogs)
    .values({ resultId: args.resultId ?? null, uploadId: args.uploadId ?? null, level: args.level ?? "info", message: args.message });
}

export type JobLogLine = { id: number; level: LogLevel; message: string; at: string };

/** A result's or an upload's log, oldest first, only for its owner (admins pass `ownerId: "any"`); null otherwise. */
export async function listJobLog(executor: Executor, args: LogSubject & { ownerId: string }): Promise<JobLogLine[] | null> {
  const anyOwner = args.ownerId === "any";
  const [owned] =
    args.resultId !== undefined
      ? await executor
          .select({ id: results.id })
          .from(results)
          .where(and(eq(results.id, args.resultId), anyOwner ? undefined : eq(results.ownerId, args.ownerId)))
      : await executor
          .select({ id: uploads.id })
          .from(uploads)
          .where(and(eq(uploads.id, args.uploadId), anyOwner ? undefined : eq(uploads.ownerId, args.ownerId)));
  if (!owned) return null;
  const lines = await executor
    .select({ id: jobLogs.id, level: jobLogs.level, message: jobLogs.message, at: jobLogs.createdAt })
    .from(jobLogs)
    .where(args.resultId !== undefined ? eq(jobLogs.resultId, args.resultId) : eq(jobLogs.uploadId, args.uploadId))
    .orderBy(desc(jobLogs.id))
    .limit(500);
  // The newest 500, shown oldest first.
  return lines.reverse().map((line) => ({ ...line, at: line.at.toISOString() }));
}

/** Log lines older than the retention period go, whatever they belong to. */
export async function expireJobLogs(executor: Executor, args: { retentionDays: number }) {
  const expired = await executor
    .delete(jobLogs)
    .where(sql`${jobLogs.createdAt} < now() - make_interval(days => ${args.retentionDays})`)
    .returning({ id: jobLogs.id });
  return expired.length;
}
