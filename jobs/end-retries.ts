import type { JobHelpers } from "graphile-worker";

/**
 * Makes the failure graphile-worker records next for this job its last: for
 * failures that would only repeat (an invalid payload, a time limit).
 * graphile-worker 0.17 cannot fail a running job permanently; with max_attempts
 * down to the attempts made, the failure it records next is final (the job
 * stays, unlocked, with its last_error, for people to see).
 */
export async function endRetries(helpers: JobHelpers) {
  await helpers.withPgClient((client) =>
    client.query("update graphile_worker._private_jobs set max_attempts = attempts where id = $1", [helpers.job.id]),
  );
}
