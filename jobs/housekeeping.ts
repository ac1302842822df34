import type { Task } from "graphile-worker";
import type { Database } from "@/db/client";
import { purgeOldResults } from "@/db/queries/housekeeping";
import { expireIdempotencyKeys } from "@/db/queries/idempotency";
import { expireJobLogs } from "@/db/queries/job-logs";
import { purgeOldSignInFailures } from "@/db/queries/sign-in-failures";
import { purgeOrphanStoredFiles } from "@/db/storage";
import { parsePayload } from "./parse-payload";
import { taskPayloads } from "./payloads";

export const payloadSchema = taskPayloads.housekeeping;

/** Recurring clean-up, run from the crontab (jobs/crontab.ts). */
export function createHousekeepingTask({ db, retentionDays }: { db: Database; retentionDays: number }): Task {
  return async (rawPayload, helpers) => {
    await parsePayload(payloadSchema, rawPayload, helpers);
    // Each purge is its own statement or transaction: at the time limit (abortSignal), stop between them.
    const { abortSignal } = helpers;
    const purged = await purgeOldResults(db, { retentionDays });
    abortSignal.throwIfAborted();
    const expiredLogLines = await expireJobLogs(db, { retentionDays });
    abortSignal.throwIfAborted();
    // A stored file still unclaimed after a day belongs to an upload that never finished.
    const orphanFiles = await purgeOrphanStoredFiles(db, { olderThanHours: 24 });
    abortSignal.throwIfAborted();
    const expiredKeys = await expireIdempotencyKeys(db);
    abortSignal.throwIfAborted();
    const expiredSignInFailures = await purgeOldSignInFailures(db);
    helpers.logger.info(
      `housekeeping: purged ${purged.results} old results, ${purged.blobs} unreferenced blobs, ${orphanFiles} orphan stored files, ` +
        `${expiredLogLines} log lines, ${expiredKeys} idempotency keys and ${expiredSignInFailures} sign-in failures`,
    );
  };
}
