import { index, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * One row per live worker process, refreshed every few seconds. A row whose
 * lease (an advisory lock) is free, or whose last_seen_at is stale, belongs to
 * a worker that died or hangs: a surviving worker deletes it and releases the
 * jobs its pool had locked.
 */
export const workerHeartbeats = pgTable(
  "worker_heartbeats",
  {
    /** Our worker id ("host:pid:random"), also written to results.worker_id. */
    id: text("id").primaryKey(),
    /** graphile-worker's pool id: the locked_by of the jobs this worker holds. */
    poolId: text("pool_id").notNull(),
    host: text("host").notNull(),
    pid: integer("pid").notNull(),
    concurrency: integer("concurrency").notNull(),
    tasks: text("tasks").array().notNull(),
    /** The key of the worker's lease, a session advisory lock (WORKER_LEASE_LOCK_CLASS, lease_key): see worker/lease.ts. */
    leaseKey: integer("lease_key"),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index("worker_heartbeats_last_seen_idx").on(table.lastSeenAt)],
);

export type WorkerHeartbeat = typeof workerHeartbeats.$inferSelect;
