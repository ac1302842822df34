import { bigserial, index, pgEnum, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { results } from "./results";

export const logLevel = pgEnum("log_level", ["info", "warn", "error"]);
export type LogLevel = (typeof logLevel.enumValues)[number];

/** What a task said while working on a result: shown live on the result's page. */
export const jobLogs = pgTable(
  "job_logs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    resultId: uuid("result_id")
      .notNull()
      .references(() => results.id, { onDelete: "cascade" }),
    level: logLevel("level").notNull().default("info"),
    message: text("message").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index("job_logs_result_idx").on(table.resultId, table.id)],
);

export type JobLog = typeof jobLogs.$inferSelect;
