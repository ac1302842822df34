import type { Task } from "graphile-worker";
import type { Database } from "@/db/client";
import { checkDueSources } from "@/db/queries/watched-sources";
import { getUploadEnv } from "@/lib/env";
import { parsePayload } from "./parse-payload";
import { taskPayloads } from "./payloads";

export const payloadSchema = taskPayloads.check_sources;

export type CheckSourcesTaskDependencies = {
  db: Database;
  /** Only for tests and local development (WATCH_ALLOW_PRIVATE_HOSTS): lets sources on loopback and private networks be fetched. */
  allowPrivateSourceHosts?: boolean;
  /** Largest version kept; UPLOAD_MAX_BYTES unless given (tests pass a small one). */
  sourceMaxBytes?: number;
};

/** Every minute, from the crontab: fetches the watched sources that are due and stores their new versions as uploads. */
export function createCheckSourcesTask({ db, allowPrivateSourceHosts = false, sourceMaxBytes }: CheckSourcesTaskDependencies): Task {
  return async (rawPayload, helpers) => {
    await parsePayload(payloadSchema, rawPayload, helpers);
    const { checked, newVersions } = await checkDueSources(db, {
      maxBytes: sourceMaxBytes ?? getUploadEnv().UPLOAD_MAX_BYTES,
      allowPrivateHosts: allowPrivateSourceHosts,
      signal: helpers.abortSignal,
    });
    if (checked > 0) helpers.logger.info(`check_sources: checked ${checked} source(s), ${newVersions} new version(s) stored`);
  };
}
