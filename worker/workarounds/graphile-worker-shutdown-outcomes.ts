/**
 * Workaround: in graphile-worker 0.17.3, a job that finishes during a graceful shutdown can stay locked.
 *
 * Upstream: with completeJobBatchDelay and failJobBatchDelay at their default (-1, outcomes written one by one),
 * the outcome of a job that ended during the pool's graceful shutdown was not recorded here and the job stayed
 * locked (found when the worker was first built; the mechanism inside graphile-worker was not pinned down). With
 * both at 0, outcomes go through the batcher, which the shutdown flushes. The batcher brings its own bug (a
 * failed flush is not retried), which graphile-worker-runner-supervision.ts covers. No upstream issue filed;
 * what would be filed: "a job that completes during gracefulShutdown stays locked unless the outcome batch
 * delays are >= 0", with a minimal runner stopped while a short job runs.
 *
 * Delete when: no test isolates this yet. A test that stops a runner (without this preset) while a short job
 * completes, and finds the job gone rather than locked, would show it; the graceful-shutdown tests
 * (worker/recovery.integration.test.ts, "SIGTERM lets the running render go…") must pass too.
 */
export const RECORD_OUTCOMES_DURING_SHUTDOWN = {
  completeJobBatchDelay: 0,
  failJobBatchDelay: 0,
} as const;
