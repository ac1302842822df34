import type { JobHelpers, Task } from "graphile-worker";
import { formatDuration } from "@/lib/format";
import { endRetries } from "./workarounds/graphile-worker-permanent-failure";
import type { TaskName } from "./payloads";

const MINUTE = 60_000;

/**
 * How long a job of each task may run before it is stopped and fails for good.
 * Each is far above what the work takes, so a job that reaches its limit is
 * stuck or far outside what the limits allow; running it again would most
 * likely hold a slot as long again, so it is not retried (people can re-run it:
 * a render's Retry on the dashboard, a file's "process again").
 */
export const TASK_TIME_LIMITS_MS = {
  // The largest render the limits allow (4096x4096, depth 5000, every point to full depth:
  // 8.4e10 iterations) is about 3 min of one thread's work at the 0.46 Giter/s that
  // `npm run bench:render` measured for one thread here. A worker's
  // renders share its threads first in, first out, so with 4 at once the last of them waits for
  // the other three: about 12 min on a one-thread worker at full speed. Two hours leave ten times
  // that for slower machines and for the lowest OS priority the threads run at under load.
  // RENDER_TIME_LIMIT_MS sets another (per worker process, so the large queue can have its own).
  render: 120 * MINUTE,
  render_large: 120 * MINUTE,
  // Above the 10 min after which an UploadThing download gives up by itself (an attempt that
  // fails and retries); from the Postgres store the checksum reads hundreds of MB a second.
  upload_checksum: 15 * MINUTE,
  upload_type: 15 * MINUTE,
  upload_thumbnail: 15 * MINUTE,
  // Each runs a few statements; the worker's statement_timeout (5 min) bounds each one.
  housekeeping: 15 * MINUTE,
  roll_up_usage: 15 * MINUTE,
  // One short transaction per due schedule.
  run_schedules: 5 * MINUTE,
  // It stops claiming sources after 50 s, and a fetch stops after 60 s.
  check_sources: 5 * MINUTE,
} as const satisfies Record<TaskName, number>;

/** After its limit, a job's task has this long to stop (it sees its abortSignal) before its slot is freed anyway. */
const STOP_GRACE_MS = 30_000;

/** Why a job was stopped at its time limit: the reason people see (the result, the upload step) and its last_error. */
export class TimeLimitExceeded extends Error {
  override name = "TimeLimitExceeded";
  constructor(readonly limitMs: number) {
    super(`Timed out after ${formatDuration(limitMs)}`);
  }
}

/** The reason, when this job was stopped at its time limit (rather than by a worker shutdown, or not at all). */
export function timeLimitExceeded(helpers: Pick<JobHelpers, "abortSignal">): TimeLimitExceeded | undefined {
  const reason: unknown = helpers.abortSignal.aborted ? helpers.abortSignal.reason : undefined;
  return reason instanceof TimeLimitExceeded ? reason : undefined;
}

/**
 * The task, stopped after `limitMs`. The task gets a `helpers.abortSignal` that
 * aborts on a worker shutdown (graphile-worker's) or at the limit, with a
 * TimeLimitExceeded reason; tasks pass it down to what they wait on (the render
 * threads, fetches, loops over work) and record a timed-out failure as they
 * record any other. At the limit, the job fails for good with that reason, once
 * the task has stopped or after STOP_GRACE_MS, whichever comes first: the slot
 * is freed even if something in the task does not listen.
 */
export function withTimeLimit(task: Task, limitMs: number, stopGraceMs = STOP_GRACE_MS): Task {
  return async (payload, helpers) => {
    // The job's own signal. Not AbortSignal.any() over graphile-worker's: that one lives as long as
    // the runner, and Node would keep every job's signal (and whatever listens to it) as long.
    const stop = new AbortController();
    const onShutdown = () => stop.abort(helpers.abortSignal.reason);
    helpers.abortSignal.addEventListener("abort", onShutdown, { once: true });
    if (helpers.abortSignal.aborted) onShutdown();
    const abortSignal = stop.signal;
    // graphile-worker's abortPromise, for the same signal: rejects when it aborts.
    const abortPromise = new Promise<void>((_resolve, reject) =>
      abortSignal.addEventListener("abort", () => reject(abortSignal.reason), { once: true }),
    );
    abortPromise.catch(() => {}); // only tasks that await it see it
    const running = Promise.resolve().then(() => task(payload, { ...helpers, abortSignal, abortPromise }));

    const timers: NodeJS.Timeout[] = [];
    const after = <T>(ms: number, value: T) => new Promise<T>((resolve) => timers.push(setTimeout(() => resolve(value), ms)));
    try {
      const finished = await Promise.race([running.then((result) => ({ result })), after(limitMs, undefined)]);
      if (finished) return finished.result;
      if (abortSignal.aborted) return await running; // a worker shutdown stopped it first: that outcome stands

      const exceeded = new TimeLimitExceeded(limitMs);
      stop.abort(exceeded);
      const hasStopped = await Promise.race([
        running.then(
          () => true,
          () => true,
        ),
        after(stopGraceMs, false),
      ]);
      if (!hasStopped)
        helpers.logger.error(
          `did not stop within ${formatDuration(stopGraceMs)} of its time limit; its slot is freed, but it may still be running`,
        );
      await endRetries(helpers).catch((error: unknown) =>
        helpers.logger.error(`could not stop the retries of a timed-out job: ${String(error)}`),
      );
      throw exceeded;
    } finally {
      for (const timer of timers) clearTimeout(timer);
      helpers.abortSignal.removeEventListener("abort", onShutdown);
    }
  };
}
