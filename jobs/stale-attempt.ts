/**
 * Thrown by a task whose attempt is no longer the current one: its worker was taken for lost (its lease dropped,
 * or it stopped beating) and the work was given back to the queue, maybe already to another worker. The task ends
 * without writing anything, and throws rather than returns: graphile-worker deletes a completed job by id, which
 * would take the job from under the worker that now runs it, while failing a job is refused unless this worker's
 * pool still holds it.
 */
export class StaleAttempt extends Error {
  constructor(work: string, attempt: number) {
    super(`${work}: attempt ${attempt} was taken over (this worker was taken for lost); stopped without writing`);
    this.name = "StaleAttempt";
  }
}
