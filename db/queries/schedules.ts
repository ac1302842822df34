import { and, asc, eq, lte, sql } from "drizzle-orm";
import { nextRunAt, type ScheduleInput } from "@/lib/schedules";
import type { ConfigurationInput } from "@/lib/validation/configuration";
import type { Executor } from "../client";
import { configurations, schedules, type Schedule } from "../schema";
import { saveConfiguration } from "./configurations";

export type ScheduleView = ScheduleInput & {
  nextRunAt: string | null;
  lastRunAt: string | null;
  lastResultId: string | null;
  lastMessage: string | null;
};

function toInput(row: Schedule): ScheduleInput {
  const common = { time: row.timeOfDay, timeZone: row.timeZone };
  if (row.repeat === "once") return { repeat: "once", date: row.date ?? "", ...common };
  if (row.repeat === "weekly") return { repeat: "weekly", weekday: row.weekday ?? 0, ...common };
  return { repeat: row.repeat, ...common };
}

const toView = (row: Schedule): ScheduleView => ({
  ...toInput(row),
  nextRunAt: row.nextRunAt?.toISOString() ?? null,
  lastRunAt: row.lastRunAt?.toISOString() ?? null,
  lastResultId: row.lastResultId,
  lastMessage: row.lastMessage,
});

export async function getSchedule(executor: Executor, args: { configurationId: string; ownerId: string }): Promise<ScheduleView | null> {
  const [row] = await executor
    .select()
    .from(schedules)
    .where(and(eq(schedules.configurationId, args.configurationId), eq(schedules.ownerId, args.ownerId)));
  return row ? toView(row) : null;
}

export type SaveScheduleResult = { ok: true; schedule: ScheduleView } | { ok: false; code: "not_found" | "in_the_past" };

/** Sets (or replaces) a configuration's schedule; only its owner may. */
export async function saveSchedule(
  executor: Executor,
  args: { configurationId: string; ownerId: string; input: ScheduleInput; now?: Date },
): Promise<SaveScheduleResult> {
  const next = nextRunAt(args.input, args.now);
  if (!next) return { ok: false, code: "in_the_past" };
  const [owned] = await executor
    .select({ id: configurations.id })
    .from(configurations)
    .where(and(eq(configurations.id, args.configurationId), eq(configurations.ownerId, args.ownerId)));
  if (!owned) return { ok: false, code: "not_found" };
  const values = {
    repeat: args.input.repeat,
    timeOfDay: args.input.time,
    date: args.input.repeat === "once" ? args.input.date : null,
    weekday: args.input.repeat === "weekly" ? args.input.weekday : null,
    timeZone: args.input.timeZone,
    nextRunAt: next,
    lastMessage: null,
  };
  const [row] = await executor
    .insert(schedules)
    .values({ configurationId: args.configurationId, ownerId: args.ownerId, ...values })
    .onConflictDoUpdate({ target: schedules.configurationId, set: values })
    .returning();
  return { ok: true, schedule: toView(row) };
}

export async function removeSchedule(executor: Executor, args: { configurationId: string; ownerId: string }) {
  const removed = await executor
    .delete(schedules)
    .where(and(eq(schedules.configurationId, args.configurationId), eq(schedules.ownerId, args.ownerId)))
    .returning({ id: schedules.configurationId });
  return removed.length > 0;
}

/**
 * Starts the renders of schedules that are due, each in its own transaction
 * with the schedule's next run: exactly as if the owner pressed Save, through
 * the same tier limits and queue, except that identical settings render again.
 * A run missed while no worker ran happens once, late; the next is then
 * computed from now. Stops between schedules once `signal` aborts. Returns how many schedules ran.
 */
export async function runDueSchedules(executor: Executor, args: { largeRenderPixels?: number; limit?: number; signal?: AbortSignal }) {
  let ran = 0;
  for (; ran < (args.limit ?? 100) && !args.signal?.aborted; ran++) {
    const didRun = await executor.transaction(async (tx) => {
      const [due] = await tx
        .select()
        .from(schedules)
        .where(lte(schedules.nextRunAt, sql`now()`))
        .orderBy(asc(schedules.nextRunAt))
        .limit(1)
        .for("update", { skipLocked: true });
      if (!due) return false;
      const [configuration] = await tx.select().from(configurations).where(eq(configurations.id, due.configurationId));
      const saved = await saveConfiguration(tx, {
        ownerId: due.ownerId,
        configurationId: due.configurationId,
        input: configurationInput(configuration),
        largeRenderPixels: args.largeRenderPixels,
        forceNewRender: true,
      });
      await tx
        .update(schedules)
        .set({
          nextRunAt: nextRunAt(toInput(due)),
          lastRunAt: sql`now()`,
          lastResultId: saved.ok ? saved.resultId : due.lastResultId,
          lastMessage: saved.ok ? null : `Skipped: ${"message" in saved ? saved.message : "the configuration is gone"}`,
        })
        .where(eq(schedules.configurationId, due.configurationId));
      return true;
    });
    if (!didRun) break;
  }
  return ran;
}

function configurationInput(row: typeof configurations.$inferSelect): ConfigurationInput {
  const { name, re, im, depth, width, height, zoom, cx, cy, colormap } = row;
  return { name, re, im, depth, width, height, zoom, cx, cy, colormap } as ConfigurationInput;
}
