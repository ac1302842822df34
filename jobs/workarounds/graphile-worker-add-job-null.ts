/**
 * Workaround: graphile_worker.add_job can return no job under contention on one job key.
 *
 * Upstream: when several transactions add a job with the same job_key while the existing one is locked or being
 * replaced, add_jobs' keyed path can return no row (and drop the request) instead of a job.
 * https://github.com/graphile/worker/issues/580 (open).
 *
 * What this does: turns that into an error the caller's transaction fails with ("try again"), so no row is ever
 * committed without its job (the data flow's first rule).
 *
 * Delete when: graphile-worker always returns the job (issue #580 fixed); `enqueue` can then read the id as is.
 * No test forces the race; jobs/payloads.fuzz.integration.test.ts and the save tests enqueue through this.
 */

/** The id add_job returned, or an error when it returned none. */
export function requireAddedJobId(jobId: string | null | undefined, description: string): string {
  if (!jobId) throw new Error(`Could not enqueue ${description}; try again`);
  return jobId;
}
