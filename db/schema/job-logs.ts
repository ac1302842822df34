import { sql } from "drizzle-orm";
import { bigserial, check, index, pgEnum, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { results } from "./results";
import { uploads } from "./uploads";

export const logLevel = pgEnum("log_level", ["info", "warn", "error"]);
export type LogLevel = (typeof logLevel.enumValues)[number];

/** What a task said while working on a result or an upload: shown live on its page. */
export const jobLogs = pgTable(
  "job_logs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    resultId: uuid("result_id").references(() => results.id, { onDelete: "cascade" }),
    uploadId: uuid("upload_id").references(() => uploads.id, { onDelete: "cascade" }),
    level: logLevel("level").notNull().default("info"),
    message: text("message").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index("job_logs_result_idx").on(table.resultId, table.id),
    index("job_logs_upload_idx").on(table.uploadId, table.id),
    check("job_logs_one_subject", sql`num_nonnulls(${table.resultId}, ${table.uploadId}) = 1`),
  ],
);

export type JobLog = typeof jobLogs.$inferSelect;
