import { sql } from "drizzle-orm";
import { check, pgEnum, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { uploads } from "./uploads";
import { users } from "./users";

export const webdavEntryKind = pgEnum("webdav_entry_kind", ["folder", "file"]);
export type WebdavEntryKind = (typeof webdavEntryKind.enumValues)[number];

/**
 * A person's tree under /uploads in WebDAV: folders (MKCOL) and where each
 * upload sits. The path is its own column, not the upload's name: names are
 * kept as people gave them (slashes, "..", duplicates), while a path must be
 * unique and made of clean segments. One table for files and folders, so one
 * unique index keeps a file and a folder from sharing a path. Paths are
 * relative to /uploads, without leading or trailing slash ("photos/cat.png").
 * A file's row goes with its upload (deleted on the page too).
 */
export const webdavEntries = pgTable(
  "webdav_entries",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    ownerId: uuid("owner_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    path: text("path").notNull(),
    kind: webdavEntryKind("kind").notNull(),
    /** The upload a file is; null for a folder. */
    uploadId: uuid("upload_id")
      .unique()
      .references(() => uploads.id, { onDelete: "cascade" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    modifiedAt: timestamp("modified_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex("webdav_entries_owner_path_idx").on(table.ownerId, table.path),
    check("webdav_entries_kind_upload_check", sql`(${table.kind} = 'file') = (${table.uploadId} is not null)`),
  ],
);

export type WebdavEntry = typeof webdavEntries.$inferSelect;

/**
 * Dead properties set with PROPPATCH. Keyed by entry, so they follow a MOVE
 * and go with a DELETE. A property is its namespace URI ("" for none) and
 * local name; its value is the property element's content as XML text, with
 * every namespace it uses declared inside it, so it can be written back as set.
 */
export const webdavProperties = pgTable(
  "webdav_properties",
  {
    entryId: uuid("entry_id")
      .notNull()
      .references(() => webdavEntries.id, { onDelete: "cascade" }),
    namespace: text("namespace").notNull(),
    name: text("name").notNull(),
    value: text("value").notNull(),
  },
  (table) => [primaryKey({ columns: [table.entryId, table.namespace, table.name] })],
);

export type WebdavProperty = typeof webdavProperties.$inferSelect;
