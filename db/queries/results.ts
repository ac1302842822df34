import { and, desc, eq, inArray, or, sql } from "drizzle-orm";
import { enqueue, removeJob } from "@/jobs/enqueue";
import { RENDER_MAX_ATTEMPTS, renderJobKey, renderTaskFor } from "@/jobs/payloads";
import type { Executor } from "../client";
import { blobs, configurations, results, UNFINISHED_STATUSES, uploads, type Result } from "../schema";
import { rerankQueuedRenders } from "./render-jobs";

/**
 * Cancels a queued or running render of the owner (or, for an admin, of anyone:
 * `ownerId: "any"`). The queued job is removed; a running render sees the
 * status at its next band and stops.
 */
export async function cancelResult(executor: Executor, args: { resultId: string; ownerId: string }) {
  const isOwned = args.ownerId === "any" ? undefined : eq(results.ownerId, args.ownerId);
  return executor.transaction(async (tx) => {
    const [cancelled] = await tx
      .update(results)
      .set({ status: "cancelled", finishedAt: sql`now()`, message: "Cancelled" })
      .where(and(eq(results.id, args.resultId), isOwned, inArray(results.status, UNFINISHED_STATUSES)))
      .returning({ id: results.id, configurationId: results.configurationId, ownerId: results.ownerId });
    if (!cancelled) {
      const [existing] = await tx
        .select({ status: results.status })
        .from(results)
        .where(and(eq(results.id, args.resultId), isOwned));
      return existing
        ? ({ ok: false, code: "already_finished", status: existing.status } as const)
        : ({ ok: false, code: "not_found" } as const);
    }
    // Only the newest result of a configuration can be unfinished, so the key's job is this one's.
    await removeJob(tx, renderJobKey(cancelled.configurationId));
    await rerankQueuedRenders(tx, cancelled.ownerId);
    return { ok: true } as const;
  });
}

/**
 * An admin's retry of a failed render: back to queued with a fresh job, if it
 * is still its configuration's current result (a newer save's job must not be replaced).
 */
export async function retryFailedResult(executor: Executor, args: { resultId: string; largeRenderPixels?: number }) {
  return executor.transaction(async (tx) => {
    const [retried] = await tx
      .update(results)
      .set({ status: "queued", error: null, finishedAt: null, progress: 0, message: "Retried by an admin; waiting for a worker" })
      .where(
        and(
          eq(results.id, args.resultId),
          eq(results.status, "failed"),
          sql`exists (select 1 from ${configurations} c where c.current_result_id = ${results.id})`,
        ),
      )
      .returning({ configurationId: results.configurationId, params: results.params });
    if (!retried)
      return { ok: false, message: "Only a failed render that is still its configuration's current one can be retried" } as const;
    await enqueue(
      tx,
      renderTaskFor(retried.params, args.largeRenderPixels),
      { resultId: args.resultId },
      {
        jobKey: renderJobKey(retried.configurationId),
        jobKeyMode: "replace",
        maxAttempts: RENDER_MAX_ATTEMPTS,
      },
    );
    return { ok: true } as const;
  });
}

export type ActivityItem = {
  id: string;
  configurationId: string;
  configurationName: string;
  status: (typeof results.$inferSelect)["status"];
  progress: number;
  finishedAt: string | null;
};

/**
 * A person's unfinished results and those finished since `since` (the app-wide
 * toasts), newest first. `since` is a database time (see getDatabaseTime), the
 * same clock that writes finished_at.
 */
export async function listActivity(executor: Executor, args: { ownerId: string; since: Date }): Promise<ActivityItem[]> {
  const rows = await executor
    .select({
      id: results.id,
      configurationId: results.configurationId,
      configurationName: configurations.name,
      status: results.status,
      progress: results.progress,
      finishedAt: results.finishedAt,
    })
    .from(results)
    .innerJoin(configurations, eq(configurations.id, results.configurationId))
    .where(
      and(
        eq(results.ownerId, args.ownerId),
        or(inArray(results.status, UNFINISHED_STATUSES), sql`${results.finishedAt} > ${args.since.toISOString()}`),
      ),
    )
    .orderBy(sql`${results.finishedAt} desc nulls first`)
    .limit(100);
  return rows.map((row) => ({ ...row, finishedAt: row.finishedAt?.toISOString() ?? null }));
}

export async function getDatabaseTime(executor: Executor): Promise<string> {
  const [row] = await executor.execute<{ now: string }>(sql`select to_json(now())#>>'{}' as now`);
  return new Date(row.now).toISOString();
}

/** An image or thumbnail, only if one of the owner's results or uploads references it. */
export async function getOwnedImage(executor: Executor, args: { sha256: string; ownerId: string }) {
  const [row] = await executor
    .select({ data: blobs.data, contentType: blobs.contentType, size: blobs.size })
    .from(blobs)
    .where(
      and(
        eq(blobs.sha256, args.sha256),
        or(
          sql`exists (select 1 from ${results} r where r.owner_id = ${args.ownerId}
            and (r.image_sha256 = ${args.sha256} or r.thumbnail_sha256 = ${args.sha256}))`,
          sql`exists (select 1 from ${uploads} u where u.owner_id = ${args.ownerId} and u.thumbnail_sha256 = ${args.sha256})`,
        ),
      ),
    );
  return row ?? null;
}

/** A finished render's PNG with what its download name is made from. */
export async function getResultDownload(executor: Executor, args: { resultId: string; ownerId: string }) {
  const [row] = await executor
    .select({
      status: results.status,
      params: results.params,
      configurationName: configurations.name,
      data: blobs.data,
      sha256: blobs.sha256,
    })
    .from(results)
    .innerJoin(configurations, eq(configurations.id, results.configurationId))
    .leftJoin(blobs, eq(blobs.sha256, results.imageSha256))
    .where(and(eq(results.id, args.resultId), eq(results.ownerId, args.ownerId)));
  return row ?? null;
}

/** What the Jobs API shows of a render. */
const renderColumns = {
  id: results.id,
  configurationId: results.configurationId,
  configurationName: configurations.name,
  status: results.status,
  progress: results.progress,
  message: results.message,
  error: results.error,
  attempts: results.attempts,
  params: results.params,
  queuedAt: results.queuedAt,
  startedAt: results.startedAt,
  finishedAt: results.finishedAt,
  wallMs: results.wallMs,
  cpuMs: results.cpuMs,
};
export type RenderRow = Awaited<ReturnType<typeof listRenders>>[number];

/** One of the owner's renders. */
export async function getRender(executor: Executor, args: { id: string; ownerId: string }) {
  const [row] = await listRenders(executor, { ownerId: args.ownerId, id: args.id, limit: 1 });
  return row ?? null;
}

/**
 * The owner's renders, newest first, a page at a time: `afterId` is the last
 * render of the previous page (keyset paging on the (owner, queued_at, id)
 * index, so a page costs the same however deep it is; the row's own microsecond
 * time is compared, which a cursor carrying a JavaScript Date would round).
 */
export async function listRenders(
  executor: Executor,
  args: { ownerId: string; id?: string; status?: Result["status"]; afterId?: string; limit: number },
) {
  return executor
    .select(renderColumns)
    .from(results)
    .innerJoin(configurations, eq(configurations.id, results.configurationId))
    .where(
      and(
        eq(results.ownerId, args.ownerId),
        args.id ? eq(results.id, args.id) : undefined,
        args.status ? eq(results.status, args.status) : undefined,
        args.afterId
          ? sql`(${results.queuedAt}, ${results.id}) < (select r.queued_at, r.id from ${results} r where r.id = ${args.afterId} and r.owner_id = ${args.ownerId})`
          : undefined,
      ),
    )
    .orderBy(desc(results.queuedAt), desc(results.id))
    .limit(args.limit);
}
