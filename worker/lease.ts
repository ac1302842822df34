import { randomInt } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { WORKER_LEASE_LOCK_CLASS } from "@/db/queries/workers";

/**
 * A worker's lease: a session-level advisory lock, (WORKER_LEASE_LOCK_CLASS, key), held on a connection of its own
 * for the worker's whole life. Postgres releases it the moment that connection ends, and a process that dies (even
 * by SIGKILL) has its sockets closed by the kernel at once, so another worker's sweep that can take the lock knows
 * this one is gone (db/queries/workers.ts, recoverLostWorkers) within a sweep, not a heartbeat timeout.
 *
 * The connection must reach Postgres itself: behind a transaction-mode pooler a session lock means nothing
 * (docs/operations/deploy.md says workers connect directly).
 *
 * When the connection drops while the process lives (a network blip, a Postgres restart), the lease takes the same
 * key again as soon as it can. Meanwhile another worker may have swept this one: the heartbeat finds out (its row is
 * gone) and stops the work that now belongs to others (worker/heartbeat.ts).
 */
export type Lease = {
  readonly key: number;
  /** Whether the lock is held right now. */
  isHeld: () => boolean;
  /** Resolves once the lock is held (at once if it is). */
  held: () => Promise<void>;
  /** Ends the connection, which releases the lock. */
  release: () => Promise<void>;
};

const RECONNECT_DELAYS_MS = { first: 100, max: 2_000 };

export async function takeLease({ databaseUrl, log }: { databaseUrl: string; log: (line: string) => void }): Promise<Lease> {
  let client: pg.Client | undefined;
  let isReleased = false;
  let waiters: (() => void)[] = [];

  /** Connects and takes `key`; false when another session holds it. Throws when the database cannot be reached. */
  const lock = async (key: number) => {
    const next = new pg.Client({
      connectionString: databaseUrl,
      application_name: "longrun-worker-lease",
      // A peer that vanished without closing the connection (a host that lost power) is noticed by TCP keepalives.
      keepAlive: true,
      keepAliveInitialDelayMillis: 5_000,
    });
    next.on("error", () => {}); // reported through "end" below
    await next.connect();
    const {
      rows: [{ locked }],
    } = await next.query<{ locked: boolean }>("select pg_try_advisory_lock($1, $2) as locked", [WORKER_LEASE_LOCK_CLASS, key]);
    if (!locked) {
      await next.end().catch(() => {});
      return false;
    }
    client = next;
    next.once("end", () => {
      if (client !== next) return;
      client = undefined;
      if (isReleased) return;
      log(`[worker] lost the lease connection (key ${key}); taking the lease again`);
      void retake(key);
    });
    for (const resolve of waiters) resolve();
    waiters = [];
    return true;
  };

  const retake = async (key: number) => {
    for (let delayMs = RECONNECT_DELAYS_MS.first; !isReleased; delayMs = Math.min(delayMs * 2, RECONNECT_DELAYS_MS.max)) {
      // Not held: either the database is unreachable, or a sweep holds the key for a moment (it is judging us).
      if (await lock(key).catch(() => false)) {
        log(`[worker] lease taken again (key ${key})`);
        return;
      }
      await sleep(delayMs);
    }
  };

  // A free key: random, retried on the rare collision with a live worker's (the lock itself is what is unique).
  let key = randomInt(1, 2 ** 31);
  while (!(await lock(key))) key = randomInt(1, 2 ** 31);

  return {
    key,
    isHeld: () => client !== undefined,
    held: () => (client ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve))),
    release: async () => {
      isReleased = true;
      const current = client;
      client = undefined;
      for (const resolve of waiters) resolve();
      // Bounded: on a connection the database dropped silently, end() may wait for an answer that never comes.
      await Promise.race([current?.end().catch(() => {}), sleep(1_000, undefined, { ref: false })]);
    },
  };
}
