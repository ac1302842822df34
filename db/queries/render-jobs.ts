import { and, eq, inArray, sql } from "drizzle-orm";
import { enqueue } from "@/jobs/enqueue";
import { RENDER_MAX_ATTEMPTS, renderJobKey } from "@/jobs/payloads";
import type { Executor } from "../client";
import { TIER_LIMITS, type Tier } from "@/lib/tiers";
import { blobs, results, UNFINISHED_STATUSES } from "../schema";

/**
 * The worker's side of a result's life. Every update is conditional on the
 * status, so a re-delivered job (at-least-once) or a result cancelled or
 * superseded meanwhile never produces a second picture or revives a result,
 * and on the attempt (a fencing token): once a worker was taken for lost and
 * its render given to another, the first one's writes are all refused.
 */
export async function claimRender(executor: Executor, args: { resultId: string; workerId: string }) {
  const [claimed] = await executor
    .update(results)
    .set({
      status: "running",
      startedAt: sql`now()`,
      attempts: sql`${results.attempts} + 1`,
      workerId: args.workerId,
      progress: 0,
      message: "Rendering",
    })
    .where(and(eq(results.id, args.resultId), inArray(results.status, UNFINISHED_STATUSES)))
    .returning({ params: results.params, attempts: results.attempts, ownerId: results.ownerId });
  return claimed ?? null;
}

/**
 * Fair shares within a tier. Saving gives a render the priority base + the
 * person's unfinished renders; kept up to date, that is base + their renders
 * running + its place in their own queue, so the next render to start is the
 * oldest of whoever has the fewest running, however long ago they saved. Called
 * when one of their renders settles or is cancelled (their queue moves up).
 * graphile-worker's reschedule_jobs leaves jobs already locked by a worker alone.
 */
export async function rerankQueuedRenders(executor: Executor, ownerId: string) {
  await executor.transaction(async (tx) => {
    // After any save in flight commits: a save that counted a render still running must not keep that stale rank.
    const owner = await lockPersonsRenders(tx, ownerId);
    if (!owner) return;
    const base = TIER_LIMITS[owner.tier].basePriority;
    await tx.execute(sql`
      with running as (
        select count(*)::int as count from results where owner_id = ${ownerId} and status = 'running'
      ), queued as (
        select configuration_id, (row_number() over (order by queued_at, id))::int - 1 as place
        from results where owner_id = ${ownerId} and status = 'queued'
      )
      select graphile_worker.reschedule_jobs(array[jobs.id], priority => ${base} + running.count + queued.place)
      from queued
      cross join running
      join graphile_worker.jobs on jobs.key = ${renderJobKey("")} || queued.configuration_id::text
      where jobs.locked_at is null and jobs.priority <> ${base} + running.count + queued.place
      order by jobs.id`);
  });
}

/**
 * One change to a person's renders at a time (a save's limit check and priority,
 * a re-ranking): a transaction-scoped lock on the person. Returns their tier.
 */
export async function lockPersonsRenders(tx: Executor, ownerId: string) {
  const [owner] = await tx.execute<{ tier: Tier }>(
    sql`select tier, pg_advisory_xact_lock(hashtextextended(id::text, 0)) from users where id = ${ownerId}`,
  );
  return owner ?? null;
}

/** A claimed attempt at a result: `attempt` is the result's attempts when it was claimed. */
export type RenderAttempt = { resultId: string; attempt: number };

const isRunningAttempt = ({ resultId, attempt }: RenderAttempt) =>
  and(eq(results.id, resultId), eq(results.attempts, attempt), eq(results.status, "running"));

/**
 * Why a write of this attempt was refused: "stale" when the render is no longer this attempt's (a sweep put it
 * back in the queue, or another worker claimed it since), "unwanted" when it was cancelled, superseded or deleted.
 * A stale attempt must end without writing anything, nor completing its job (that job is someone else's now).
 */
export async function whyRefused(executor: Executor, { resultId, attempt }: RenderAttempt): Promise<"stale" | "unwanted"> {
  const [row] = await executor.select({ status: results.status, attempts: results.attempts }).from(results).where(eq(results.id, resultId));
  return row && (row.attempts !== attempt || row.status === "queued") ? "stale" : "unwanted";
}

/** Writes progress; when refused, says why (see whyRefused). */
export async function reportRenderProgress(executor: Executor, args: RenderAttempt & { progress: number; message: string }) {
  const updated = await executor
    .update(results)
    .set({ progress: args.progress, message: args.message })
    .where(isRunningAttempt(args))
    .returning({ id: results.id });
  return updated.length > 0 ? "wanted" : await whyRefused(executor, args);
}

/** What a render stopped early (cancelled or superseded) had already cost, for accounting. */
export async function recordStoppedRenderCost(executor: Executor, args: RenderAttempt & { wallMs: number; cpuMs: number }) {
  await executor
    .update(results)
    .set({ wallMs: Math.round(args.wallMs), cpuMs: Math.round(args.cpuMs) })
    .where(and(eq(results.id, args.resultId), eq(results.attempts, args.attempt), inArray(results.status, ["cancelled", "superseded"])));
}

type StoredImage = { sha256: string; contentType: string; data: Buffer };

export async function completeRender(
  executor: Executor,
  args: RenderAttempt & { image: StoredImage; thumbnail: StoredImage; iterations: number; wallMs: number; cpuMs: number },
) {
  return executor.transaction(async (tx) => {
    await tx
      .insert(blobs)
      .values([args.image, args.thumbnail].map((blob) => ({ ...blob, size: blob.data.length })))
      .onConflictDoNothing();
    const updated = await tx
      .update(results)
      .set({
        status: "succeeded",
        progress: 1,
        message: "Done",
        error: null,
        imageSha256: args.image.sha256,
        thumbnailSha256: args.thumbnail.sha256,
        imageBytes: args.image.data.length,
        iterations: args.iterations,
        finishedAt: sql`now()`,
        wallMs: Math.round(args.wallMs),
        cpuMs: Math.round(args.cpuMs),
      })
      .where(isRunningAttempt(args))
      .returning({ id: results.id });
    return updated.length > 0 ? "stored" : await whyRefused(tx, args);
  });
}

/** A failed attempt: back to queued while graphile-worker will retry, failed after the last attempt; with what it computed. */
export async function recordRenderFailure(
  executor: Executor,
  args: RenderAttempt & { error: string; isFinal: boolean; retryInSeconds: number; cost: { wallMs: number; cpuMs: number } },
) {
  const cost = { wallMs: Math.round(args.cost.wallMs), cpuMs: Math.round(args.cost.cpuMs) };
  await executor
    .update(results)
    .set(
      args.isFinal
        ? { status: "failed", error: args.error, message: `Failed: ${args.error}`, finishedAt: sql`now()`, ...cost }
        : {
            status: "queued",
            error: args.error,
            message: `Attempt failed (${args.error}); retrying in about ${args.retryInSeconds} s`,
            ...cost,
          },
    )
    .where(isRunningAttempt(args));
}

/**
 * A graceful worker shutdown interrupted the render: the result goes back to
 * queued with a fresh job, ready at once for another worker. (Failing the job
 * instead would cost an attempt and a retry backoff for something that was not
 * the render's fault.) Nothing is added if the result was cancelled or superseded.
 */
export async function handBackRender(executor: Executor, args: RenderAttempt & { message: string; task: "render" | "render_large" }) {
  return executor.transaction(async (tx) => {
    const [handedBack] = await tx
      .update(results)
      .set({ status: "queued", progress: 0, message: args.message })
      .where(isRunningAttempt(args))
      .returning({ configurationId: results.configurationId });
    if (!handedBack) return whyRefused(tx, args);
    // The running job holds the key; replace mode gives the key to this new job.
    await enqueue(
      tx,
      args.task,
      { resultId: args.resultId },
      {
        jobKey: renderJobKey(handedBack.configurationId),
        jobKeyMode: "replace",
        maxAttempts: RENDER_MAX_ATTEMPTS,
      },
    );
    return "handed back" as const;
  });
}
