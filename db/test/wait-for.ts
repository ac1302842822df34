import { sql } from "drizzle-orm";
import type { Database } from "../client";
import { LEASE_GRACE_AFTER_RESTART_MS } from "../queries/workers";

/** Polls `read` until `isDone` holds; fails with the last value seen after `timeoutMs`. */
export async function waitFor<T>(read: () => Promise<T>, isDone: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (isDone(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Waits until the test's Postgres has been up long enough for sweeps to judge leases (LEASE_GRACE_AFTER_RESTART_MS):
 * `npm test` starts a throwaway one moments before the first tests run.
 */
export async function untilLeasesAreJudged(db: Database) {
  await waitFor(
    () =>
      db.execute<{ isUp: boolean }>(
        sql`select pg_postmaster_start_time() < now() - make_interval(secs => ${LEASE_GRACE_AFTER_RESTART_MS / 1000}) as "isUp"`,
      ),
    ([row]) => row.isUp,
  );
}
