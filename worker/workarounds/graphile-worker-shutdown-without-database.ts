/**
 * Workaround: graphile-worker 0.17.3's graceful shutdown waits for the database for as long as it is away.
 *
 * Upstream: `runner.stop()` (running jobs finish within the grace, or are handed back) waits for each idle
 * slot's job query, and that query retries "the database system is shutting down" (57P03), EHOSTUNREACH and
 * ETIMEDOUT up to 100 times, 3 s apart growing to 2 minutes; only another error ends it. A connection attempt
 * of its pg pool has no time limit either. So a worker stopped while its database is gone did not exit.
 * No upstream issue filed; what would be filed: "Runner.stop() does not resolve while the database answers
 * 57P03 or is unreachable: the idle workers' getJob retries are not cut short by the shutdown", with a TCP
 * proxy answering 57P03 to every startup (as worker/shutdown-without-database.integration.test.ts does).
 *
 * What this does: while the runner stops, ask the database `select 1` about once a second on a connection of
 * its own; once it has not answered for `silentMs`, stop waiting. The caller then skips what needs the
 * database (the heartbeat's removal), and another worker's sweep releases this one's jobs, as for a lost worker.
 *
 * Delete when: both tests of worker/shutdown-without-database.integration.test.ts pass with `stop` awaiting
 * the runner's stop alone (`giveUpWhenDatabaseSilent` replaced by `runnerStopped.then(() => false)`).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "drizzle-orm";
import { createDatabase, type Database } from "@/db/client";

/** Waits for `runnerStopped`, or gives up once the database has been silent for `silentMs`: true when it gave up. */
export function giveUpWhenDatabaseSilent(runnerStopped: Promise<void>, databaseUrl: string, silentMs: number): Promise<boolean> {
  return Promise.race([runnerStopped.then(() => false), databaseSilentFor(databaseUrl, silentMs, runnerStopped)]);
}

/**
 * Whether the database stays silent for `silentMs` before `until` settles:
 * `select 1` about once a second on a connection of its own (the worker's pool
 * may be busy with jobs), each given `silentMs` to answer.
 */
async function databaseSilentFor(url: string, silentMs: number, until: Promise<unknown>): Promise<boolean> {
  let isOver = false;
  void until.finally(() => (isOver = true)).catch(() => {});
  const probe: Database = createDatabase(url, { max: 1, applicationName: "longrun-worker-shutdown" });
  try {
    let answeredAt = performance.now();
    while (!isOver) {
      const answered = await Promise.race([
        probe.execute(sql`select 1`).then(
          () => true,
          () => false,
        ),
        sleep(silentMs, false, { ref: false }),
      ]);
      if (answered) answeredAt = performance.now();
      else if (performance.now() - answeredAt >= silentMs) return !isOver;
      await Promise.race([sleep(1_000, undefined, { ref: false }), until.catch(() => {})]);
    }
    return false;
  } finally {
    await probe.$client.end({ timeout: 0 });
  }
}
