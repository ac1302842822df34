import { and, count, desc, eq, inArray, ne, sql } from "drizzle-orm";
import { enqueue, removeJob } from "@/jobs/enqueue";
import { RENDER_MAX_ATTEMPTS, renderJobKey, renderTaskFor } from "@/jobs/payloads";
import { hashRenderParams, pickRenderParams } from "@/lib/params-hash";
import { formatMegapixels, renderPriority, TIER_LIMITS } from "@/lib/tiers";
import type { ConfigurationInput } from "@/lib/validation/configuration";
import type { Executor } from "../client";
import { configurations, results, UNFINISHED_STATUSES } from "../schema";
import { lockPersonsRenders } from "./render-jobs";

export type SaveConfigurationResult =
  | { ok: true; configurationId: string; resultId: string; isNewRender: boolean }
  | { ok: false; code: "not_found" }
  | { ok: false; code: "size_limit" | "render_limit"; message: string };

/**
 * Saves a configuration and starts its render in ONE transaction: the
 * configuration, a queued result and the job commit together or not at all.
 * Identical params reuse the existing succeeded or in-flight result (no job);
 * other unfinished results of the configuration become superseded. The
 * owner's tier limits the size and the number of unfinished renders, and sets
 * the job's priority; renders above `largeRenderPixels` go to the large queue.
 * Every refusal returns before anything is written.
 */
export async function saveConfiguration(
  executor: Executor,
  args: {
    ownerId: string;
    configurationId?: string;
    input: ConfigurationInput;
    largeRenderPixels?: number;
    /** Render again even when these settings already have a result (a scheduled re-render). */
    forceNewRender?: boolean;
  },
): Promise<SaveConfigurationResult> {
  const { ownerId, input } = args;
  const params = pickRenderParams(input);
  const paramsHash = hashRenderParams(params);
  const pixels = params.width * params.height;

  return executor.transaction(async (tx) => {
    // One save per person at a time, so two saves cannot both pass the limit check.
    const owner = await lockPersonsRenders(tx, ownerId);
    if (!owner) return { ok: false, code: "not_found" } as const;
    const limits = TIER_LIMITS[owner.tier];
    if (pixels > limits.maxPixels) {
      return {
        ok: false,
        code: "size_limit",
        message: `A ${limits.label} account renders up to ${formatMegapixels(limits.maxPixels)}; this is ${formatMegapixels(pixels)}`,
      } as const;
    }

    if (args.configurationId) {
      // Row lock: concurrent saves of one configuration take turns.
      const [existing] = await tx
        .select({ id: configurations.id })
        .from(configurations)
        .where(and(eq(configurations.id, args.configurationId), eq(configurations.ownerId, ownerId)))
        .for("update");
      if (!existing) return { ok: false, code: "not_found" } as const;
    }

    // A new configuration has no results yet: nothing to reuse or supersede (round trips saved).
    const [reusable] =
      args.configurationId && !args.forceNewRender
        ? await tx
            .select({ id: results.id })
            .from(results)
            .where(
              and(
                eq(results.configurationId, args.configurationId),
                eq(results.paramsHash, paramsHash),
                inArray(results.status, ["queued", "running", "succeeded"]),
              ),
            )
            .orderBy(desc(results.queuedAt))
            .limit(1)
        : [];

    // This configuration's own unfinished render is about to be superseded: it does not count.
    let unfinishedElsewhere = 0;
    if (!reusable) {
      const [counted] = await tx
        .select({ count: count() })
        .from(results)
        .where(
          and(
            eq(results.ownerId, ownerId),
            inArray(results.status, UNFINISHED_STATUSES),
            args.configurationId ? ne(results.configurationId, args.configurationId) : undefined,
          ),
        );
      unfinishedElsewhere = counted.count;
      if (unfinishedElsewhere >= limits.maxUnfinishedRenders) {
        return {
          ok: false,
          code: "render_limit",
          message: `A ${limits.label} account can have ${limits.maxUnfinishedRenders} renders queued or running at once; wait for one to finish or cancel one`,
        } as const;
      }
    }

    let configurationId: string;
    if (args.configurationId) {
      configurationId = args.configurationId;
    } else {
      const [created] = await tx
        .insert(configurations)
        .values({ ownerId, ...input })
        .returning({ id: configurations.id });
      configurationId = created.id;
    }

    const superseded = args.configurationId
      ? await tx
          .update(results)
          .set({ status: "superseded", finishedAt: sql`now()`, message: "Replaced by newer settings" })
          .where(
            and(
              eq(results.configurationId, configurationId),
              inArray(results.status, UNFINISHED_STATUSES),
              reusable ? ne(results.id, reusable.id) : undefined,
            ),
          )
          .returning({ id: results.id })
      : [];

    let resultId: string;
    if (reusable) {
      resultId = reusable.id;
      // The superseded render's queued job has nothing left to do.
      if (superseded.length > 0) await removeJob(tx, renderJobKey(configurationId));
    } else {
      const [result] = await tx
        .insert(results)
        .values({ configurationId, ownerId, params, paramsHash, status: "queued", message: "Waiting for a worker" })
        .returning({ id: results.id });
      resultId = result.id;
      await enqueue(
        tx,
        renderTaskFor(params, args.largeRenderPixels),
        { resultId },
        {
          jobKey: renderJobKey(configurationId),
          jobKeyMode: "replace",
          maxAttempts: RENDER_MAX_ATTEMPTS,
          priority: renderPriority(owner.tier, unfinishedElsewhere),
        },
      );
    }

    await tx
      .update(configurations)
      .set({ ...input, currentResultId: resultId, updatedAt: sql`now()` })
      .where(and(eq(configurations.id, configurationId), eq(configurations.ownerId, ownerId)));

    return { ok: true, configurationId, resultId, isNewRender: !reusable } as const;
  });
}

export async function getConfiguration(executor: Executor, args: { id: string; ownerId: string }) {
  const [row] = await executor
    .select()
    .from(configurations)
    .where(and(eq(configurations.id, args.id), eq(configurations.ownerId, args.ownerId)));
  return row ?? null;
}

export type ResultSummary = {
  id: string;
  status: (typeof results.$inferSelect)["status"];
  progress: number;
  message: string | null;
  error: string | null;
  attempts: number;
  imageSha256: string | null;
  thumbnailSha256: string | null;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  wallMs: number | null;
  cpuMs: number | null;
  workerId: string | null;
};

export type ConfigurationStatus = {
  id: string;
  name: string;
  createdAt: string;
  /** The result for the current settings. */
  current: ResultSummary | null;
  /** The picture to show: the current result if it succeeded, else the last one that did (stale). */
  shown: (Pick<ResultSummary, "id" | "imageSha256" | "thumbnailSha256" | "finishedAt"> & { isStale: boolean }) | null;
};

const resultColumns = (alias: string) =>
  sql.raw(`
  ${alias}.id, ${alias}.status, ${alias}.progress, ${alias}.message, ${alias}.error, ${alias}.attempts,
  ${alias}.image_sha256, ${alias}.thumbnail_sha256, ${alias}.queued_at, ${alias}.started_at, ${alias}.finished_at,
  ${alias}.wall_ms, ${alias}.cpu_ms, ${alias}.worker_id`);

type StatusRow = {
  configuration_id: string;
  name: string;
  created_at: string;
  current: Record<string, unknown> | null;
  last_succeeded: Record<string, unknown> | null;
};

/**
 * Status of one or all of a person's configurations in one indexed query:
 * the current result joined by primary key, the last succeeded one through
 * the partial index on (configuration_id, finished_at) where succeeded.
 */
function statusQuery(args: { ownerId: string; configurationId?: string }) {
  return sql`
    select c.id as configuration_id, c.name, c.created_at,
      (select to_jsonb(cur) from (select ${resultColumns("r")} from results r where r.id = c.current_result_id) cur) as current,
      (select to_jsonb(s) from (
        select r.id, r.image_sha256, r.thumbnail_sha256, r.finished_at from results r
        where r.configuration_id = c.id and r.status = 'succeeded'
        order by r.finished_at desc limit 1) s) as last_succeeded
    from configurations c
    where c.owner_id = ${args.ownerId}
      ${args.configurationId ? sql`and c.id = ${args.configurationId}` : sql``}
    order by c.created_at desc`;
}

function toResultSummary(row: Record<string, unknown>): ResultSummary {
  return {
    id: row.id as string,
    status: row.status as ResultSummary["status"],
    progress: Number(row.progress),
    message: (row.message as string | null) ?? null,
    error: (row.error as string | null) ?? null,
    attempts: Number(row.attempts),
    imageSha256: (row.image_sha256 as string | null) ?? null,
    thumbnailSha256: (row.thumbnail_sha256 as string | null) ?? null,
    queuedAt: row.queued_at as string,
    startedAt: (row.started_at as string | null) ?? null,
    finishedAt: (row.finished_at as string | null) ?? null,
    wallMs: (row.wall_ms as number | null) ?? null,
    cpuMs: (row.cpu_ms as number | null) ?? null,
    workerId: (row.worker_id as string | null) ?? null,
  };
}

function toConfigurationStatus(row: StatusRow): ConfigurationStatus {
  const current = row.current ? toResultSummary(row.current) : null;
  const last = row.last_succeeded;
  const shown =
    current?.status === "succeeded"
      ? {
          id: current.id,
          imageSha256: current.imageSha256,
          thumbnailSha256: current.thumbnailSha256,
          finishedAt: current.finishedAt,
          isStale: false,
        }
      : last
        ? {
            id: last.id as string,
            imageSha256: last.image_sha256 as string,
            thumbnailSha256: (last.thumbnail_sha256 as string | null) ?? null,
            finishedAt: last.finished_at as string,
            isStale: true,
          }
        : null;
  return { id: row.configuration_id, name: row.name, createdAt: new Date(row.created_at).toISOString(), current, shown };
}

export async function getConfigurationStatus(executor: Executor, args: { id: string; ownerId: string }) {
  const rows = await executor.execute<StatusRow>(statusQuery({ ownerId: args.ownerId, configurationId: args.id }));
  return rows[0] ? toConfigurationStatus(rows[0]) : null;
}

export async function listConfigurationStatuses(executor: Executor, args: { ownerId: string }) {
  const rows = await executor.execute<StatusRow>(statusQuery({ ownerId: args.ownerId }));
  return [...rows].map(toConfigurationStatus);
}
