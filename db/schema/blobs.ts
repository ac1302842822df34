import { customType, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => "bytea" });

/** Content-addressed bytes (rendered images, thumbnails), keyed by sha256 hex. */
export const blobs = pgTable("blobs", {
  sha256: text("sha256").primaryKey(),
  contentType: text("content_type").notNull(),
  size: integer("size").notNull(),
  data: bytea("data").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

export type Blob = typeof blobs.$inferSelect;
