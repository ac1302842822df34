import type { Task } from "graphile-worker";
import type { Database } from "@/db/client";
import { purgeOldResults } from "@/db/queries/housekeeping";
import { expireJobLogs } from "@/db/queries/job-logs";
import { taskPayloads } from "./payloads";

export const payloadSchema = taskPayloads.housekeeping;

/** Recurring clean-up, run from the crontab (jobs/crontab.ts). */
export function createHousekeepingTask({ db, retentionDays }: { db: Database; retentionDays: number }): Task {
  return async (rawPayload, helpers) => {
    payloadSchema.parse(rawPayload);
    const purged = await purgeOldResults(db, { retentionDays });
    const expiredLogLines = await expireJobLogs(db, { retentionDays });
    helpers.logger.info(
      `housekeeping: purged ${purged.results} old results, ${purged.blobs} unreferenced blobs and ${expiredLogLines} log lines`,
    );
  };
}
