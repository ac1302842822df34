import { index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * Failed sign-ins, one row each, for the sign-in rate limit (server/auth/sign-in-limit.ts).
 * In Postgres rather than in memory so every web instance (serverless ones too)
 * sees the same counts. The email is kept as typed (lower-cased), whether or not
 * an account has it, so unknown and known emails are limited alike.
 * Rows older than the window count for nothing; housekeeping deletes them.
 */
export const signInFailures = pgTable(
  "sign_in_failures",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    email: text("email").notNull(),
    ip: text("ip").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index("sign_in_failures_email_idx").on(table.email, table.createdAt),
    index("sign_in_failures_ip_idx").on(table.ip, table.createdAt),
  ],
);

export type SignInFailure = typeof signInFailures.$inferSelect;
