import { index, integer, jsonb, pgTable, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";
import { users } from "./users";

/**
 * Personal API tokens for scripts (the Jobs API and CLI). Only a sha256 of each
 * token is kept: tokens are 256 random bits, so a fast hash is enough, and a
 * leaked table gives nobody a usable token. The prefix lets people tell them apart.
 */
export const apiTokens = pgTable(
  "api_tokens",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    ownerId: uuid("owner_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    tokenHash: text("token_hash").notNull().unique(),
    /** The first characters of the token, shown in the list ("lr_AbCd…"). */
    prefix: text("prefix").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (table) => [index("api_tokens_owner_idx").on(table.ownerId)],
);

export type ApiToken = typeof apiTokens.$inferSelect;

/**
 * `Idempotency-Key` of the Jobs API's POSTs: the first response is kept and a
 * retried request gets it again, starting nothing new. Keys belong to their
 * owner (two people may use the same key) and expire after a day (housekeeping).
 * The row is inserted in the transaction that starts the work, so a concurrent
 * retry waits on the unique index and then reads the stored response.
 */
export const apiIdempotencyKeys = pgTable(
  "api_idempotency_keys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    ownerId: uuid("owner_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    /** sha256 of method, path and body: the same key with a different request is refused. */
    requestHash: text("request_hash").notNull(),
    responseStatus: integer("response_status").notNull(),
    responseBody: jsonb("response_body").notNull(),
    responseLocation: text("response_location"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    unique("api_idempotency_keys_owner_key").on(table.ownerId, table.key),
    index("api_idempotency_keys_created_idx").on(table.createdAt),
  ],
);
