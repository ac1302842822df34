/**
 * Workaround: graphile-worker 0.17 has no way for a running task to fail its job for good.
 *
 * Upstream: a task that throws is retried until max_attempts (25 by default, over about three days), even when
 * the failure can only repeat (an invalid payload, a time limit). graphile-worker has no "permanently fail"
 * helper: https://github.com/graphile/worker/issues/148 asked for one (closed, labelled a question, no helper
 * added); https://github.com/graphile/worker/issues/328 (helpers to fail locked jobs) is related.
 *
 * What this does: sets the job's max_attempts to the attempts made, in graphile-worker's private table, so the
 * failure it records next is final (the job stays, unlocked, with its last_error). It writes
 * `graphile_worker._private_jobs`, which is why graphile-worker is pinned to an exact version.
 *
 * Delete when: graphile-worker offers a way to fail a job without retries (a helper or an error type). Then
 * jobs/payloads.fuzz.integration.test.ts (invalid payloads fail once) and worker/hanging-jobs.integration.test.ts
 * ("a render fails with the reason, … it is not retried") must pass through that instead.
 */
import type { JobHelpers } from "graphile-worker";

/** Makes the failure graphile-worker records next for this job its last. */
export async function endRetries(helpers: JobHelpers) {
  await helpers.withPgClient((client) =>
    client.query("update graphile_worker._private_jobs set max_attempts = attempts where id = $1", [helpers.job.id]),
  );
}
