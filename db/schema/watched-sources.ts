import { sql } from "drizzle-orm";
import { boolean, check, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { uploads } from "./uploads";
import { users } from "./users";

/** How often a source may be checked, in minutes: 5 minutes, 15 minutes, an hour, 6 hours, a day. */
export const WATCH_INTERVAL_MINUTES = [5, 15, 60, 360, 1440] as const;
export type WatchIntervalMinutes = (typeof WATCH_INTERVAL_MINUTES)[number];

/**
 * A URL a person asked us to watch. The crontab's check_sources task fetches
 * those whose next_check_at has come (no per-user cron lines) and stores each
 * new version as an upload, processed like any other.
 */
export const watchedSources = pgTable(
  "watched_sources",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    ownerId: uuid("owner_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** Normalised by the URL parser, without a fragment. */
    url: text("url").notNull(),
    intervalMinutes: integer("interval_minutes").notNull().default(60),
    /** Validators of the last version, sent back as If-None-Match / If-Modified-Since. */
    etag: text("etag"),
    lastModified: text("last_modified"),
    /** sha256 of the last stored version's bytes: a server without validators still gets "Unchanged". */
    lastSha256: text("last_sha256"),
    lastCheckedAt: timestamp("last_checked_at", { withTimezone: true }),
    /** A new source is due at once. */
    nextCheckAt: timestamp("next_check_at", { withTimezone: true }).notNull().defaultNow(),
    lastUploadId: uuid("last_upload_id").references(() => uploads.id, { onDelete: "set null" }),
    /** A short message for people: "New version stored", "Unchanged", "Failed: HTTP 404"… */
    lastStatus: text("last_status"),
    versions: integer("versions").notNull().default(0),
    /** An admin's source for everyone: its versions are shared files (uploads.is_shared). */
    isShared: boolean("is_shared").notNull().default(false),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index("watched_sources_next_check_idx").on(table.nextCheckAt),
    // Watching one URL twice would store every version twice.
    uniqueIndex("watched_sources_owner_url_idx").on(table.ownerId, table.url),
    check("watched_sources_interval", sql`${table.intervalMinutes} in (${sql.raw(WATCH_INTERVAL_MINUTES.join(", "))})`),
  ],
);

export type WatchedSource = typeof watchedSources.$inferSelect;
