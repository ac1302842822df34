import { doublePrecision, index, integer, pgTable, text, timestamp, uuid, type AnyPgColumn } from "drizzle-orm/pg-core";
import { users } from "./users";
import { results } from "./results";

export const configurations = pgTable(
  "configurations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    ownerId: uuid("owner_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    re: doublePrecision("re").notNull(),
    im: doublePrecision("im").notNull(),
    depth: integer("depth").notNull(),
    width: integer("width").notNull(),
    height: integer("height").notNull(),
    zoom: doublePrecision("zoom").notNull(),
    cx: doublePrecision("cx").notNull(),
    cy: doublePrecision("cy").notNull(),
    colormap: text("colormap").notNull(),
    /** The result that matches the current parameters (set in the save transaction). */
    currentResultId: uuid("current_result_id").references((): AnyPgColumn => results.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index("configurations_owner_created_idx").on(table.ownerId, table.createdAt.desc())],
);

export type Configuration = typeof configurations.$inferSelect;
