import { index, integer, pgEnum, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { configurations } from "./configurations";
import { results } from "./results";
import { users } from "./users";

export const scheduleRepeat = pgEnum("schedule_repeat", ["once", "daily", "weekdays", "weekly"]);
export type ScheduleRepeat = (typeof scheduleRepeat.enumValues)[number];

/**
 * A configuration's scheduled re-render, in its owner's time zone. One row per
 * configuration; the crontab's run_schedules task starts those whose
 * next_run_at has come (no per-user cron lines, as graphile-worker advises).
 */
export const schedules = pgTable(
  "schedules",
  {
    configurationId: uuid("configuration_id")
      .primaryKey()
      .references(() => configurations.id, { onDelete: "cascade" }),
    ownerId: uuid("owner_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    repeat: scheduleRepeat("repeat").notNull(),
    /** Wall-clock time "HH:MM" in timeZone. */
    timeOfDay: text("time_of_day").notNull(),
    /** "once": the date "YYYY-MM-DD" in timeZone. */
    date: text("date"),
    /** "weekly": 0 = Sunday … 6 = Saturday. */
    weekday: integer("weekday"),
    /** IANA name, e.g. Europe/Paris. */
    timeZone: text("time_zone").notNull(),
    /** Null once a one-off run has happened. */
    nextRunAt: timestamp("next_run_at", { withTimezone: true }),
    lastRunAt: timestamp("last_run_at", { withTimezone: true }),
    lastResultId: uuid("last_result_id").references(() => results.id, { onDelete: "set null" }),
    /** What the last run said when it could not start a render (a tier limit, say). */
    lastMessage: text("last_message"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index("schedules_next_run_idx").on(table.nextRunAt)],
);

export type Schedule = typeof schedules.$inferSelect;
