import type { Task } from "graphile-worker";
import type { Database } from "@/db/client";
import { runDueSchedules } from "@/db/queries/schedules";
import { rollUpUsage } from "@/db/queries/usage";
import { parsePayload } from "./parse-payload";
import { taskPayloads } from "./payloads";

export const payloadSchema = taskPayloads.run_schedules;

/** Every minute, from the crontab: starts the scheduled renders that are due. */
export function createRunSchedulesTask({ db, largeRenderPixels }: { db: Database; largeRenderPixels?: number }): Task {
  return async (rawPayload, helpers) => {
    await parsePayload(payloadSchema, rawPayload, helpers);
    const ran = await runDueSchedules(db, { largeRenderPixels, signal: helpers.abortSignal });
    if (ran > 0) helpers.logger.info(`run_schedules: started ${ran} scheduled render(s)`);
  };
}

/** Hourly, from the crontab: rolls up each person's usage per day (db/queries/usage.ts). */
export function createRollUpUsageTask({ db }: { db: Database }): Task {
  return async (rawPayload, helpers) => {
    await parsePayload(taskPayloads.roll_up_usage, rawPayload, helpers);
    const days = await rollUpUsage(db);
    helpers.logger.info(`roll_up_usage: rolled up ${days.length} day(s) from ${days[0]}`);
  };
}
