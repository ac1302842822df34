import { index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
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
