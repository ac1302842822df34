import { bigint, date, integer, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { users } from "./users";

/**
 * What each person's jobs cost per day (UTC) and kind, rolled up by the
 * roll_up_usage cron task. The rows they are computed from go (housekeeping
 * purges old results, people delete uploads); the accounting stays.
 */
export const usageDaily = pgTable(
  "usage_daily",
  {
    ownerId: uuid("owner_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    day: date("day").notNull(),
    kind: text("kind", { enum: ["render", "upload"] }).notNull(),
    jobs: integer("jobs").notNull(),
    attempts: integer("attempts").notNull(),
    wallMs: bigint("wall_ms", { mode: "number" }).notNull(),
    cpuMs: bigint("cpu_ms", { mode: "number" }).notNull(),
    bytesRead: bigint("bytes_read", { mode: "number" }).notNull(),
    bytesWritten: bigint("bytes_written", { mode: "number" }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.ownerId, table.day, table.kind] })],
);

/**
 * Which days have been rolled up, and when. A day rolled up after it ended is
 * final: its figures are read from usage_daily; later days are computed live.
 */
export const usageRollups = pgTable("usage_rollups", {
  day: date("day").primaryKey(),
  rolledUpAt: timestamp("rolled_up_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * What each person stores now (their uploads: bytes and files), kept in the
 * transaction that adds or deletes an upload, so the tier's storage quota is
 * checked with one guarded UPDATE of this row (db/queries/storage-usage.ts).
 * No row yet: nothing stored.
 */
export const storageUsage = pgTable("storage_usage", {
  ownerId: uuid("owner_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  bytes: bigint("bytes", { mode: "number" }).notNull().default(0),
  files: integer("files").notNull().default(0),
});

export type StorageUsage = typeof storageUsage.$inferSelect;
