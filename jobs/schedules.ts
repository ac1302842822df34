import type { Task } from "graphile-worker";
import type { Database } from "@/db/client";
import { runDueSchedules } from "@/db/queries/schedules";
import { taskPayloads } from "./payloads";

export const payloadSchema = taskPayloads.run_schedules;

/** Every minute, from the crontab: starts the scheduled renders that are due. */
export function createRunSchedulesTask({ db, largeRenderPixels }: { db: Database; largeRenderPixels?: number }): Task {
  return async (rawPayload, helpers) => {
    payloadSchema.parse(rawPayload);
    const ran = await runDueSchedules(db, { largeRenderPixels });
    if (ran > 0) helpers.logger.info(`run_schedules: started ${ran} scheduled render(s)`);
  };
}
