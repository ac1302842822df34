import { index, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * One row per live worker process, refreshed every few seconds. A row whose
 * last_seen_at is stale belongs to a worker that died without warning: a
 * surviving worker deletes it and releases the jobs its pool had locked.
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
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index("worker_heartbeats_last_seen_idx").on(table.lastSeenAt)],
);

export type WorkerHeartbeat = typeof workerHeartbeats.$inferSelect;
