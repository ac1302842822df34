import { integer, pgEnum, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

export const userRole = pgEnum("user_role", ["user", "admin"]);
export const userTier = pgEnum("user_tier", ["free", "pro"]);

export const users = pgTable("users", {
  id: uuid("id").primaryKey().defaultRandom(),
  /** Stored lower-cased; unique. */
  email: text("email").notNull().unique(),
  passwordHash: text("password_hash").notNull(),
  role: userRole("role").notNull().default("user"),
  tier: userTier("tier").notNull().default("free"),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  /** Stamped into each session at sign-in; a session with another number is over. Sign-out adds one. */
  sessionGeneration: integer("session_generation").notNull().default(0),
  /**
   * Rate windows (db/queries/rate-windows.ts): a fixed minute per person and door, counted by the statement
   * that reads them. "api": the Jobs API and the page's routes that accept work; "webdav": the WebDAV server.
   */
  apiWindowStartedAt: timestamp("api_window_started_at", { withTimezone: true }).notNull().defaultNow(),
  apiWindowRequests: integer("api_window_requests").notNull().default(0),
  webdavWindowStartedAt: timestamp("webdav_window_started_at", { withTimezone: true }).notNull().defaultNow(),
  webdavWindowRequests: integer("webdav_window_requests").notNull().default(0),
});

export type User = typeof users.$inferSelect;
