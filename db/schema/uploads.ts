import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  customType,
  index,
  integer,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { blobs } from "./blobs";
import { users } from "./users";

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => "bytea" });

/**
 * The local file store: a file's bytes in 1 MiB chunks, so they stream in and
 * out without ever sitting whole in memory, and every worker that reaches the
 * database reaches them. Written before the upload row exists; an upload row
 * that references a stored file is what keeps it (housekeeping purges orphans).
 */
export const storedFiles = pgTable("stored_files", {
  key: uuid("key").primaryKey().defaultRandom(),
  size: bigint("size", { mode: "number" }).notNull().default(0),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

export const storedFileChunks = pgTable(
  "stored_file_chunks",
  {
    fileKey: uuid("file_key")
      .notNull()
      .references(() => storedFiles.key, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    data: bytea("data").notNull(),
  },
  (table) => [primaryKey({ columns: [table.fileKey, table.seq] })],
);

export const storageKind = pgEnum("storage_kind", ["local", "uploadthing"]);
export type StorageKind = (typeof storageKind.enumValues)[number];

export const uploads = pgTable(
  "uploads",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    ownerId: uuid("owner_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** The name as the person gave it (control characters replaced); only ever displayed and sent in Content-Disposition. */
    name: text("name").notNull(),
    size: bigint("size", { mode: "number" }).notNull(),
    storage: storageKind("storage").notNull(),
    /** stored_files.key for local files; the file key at UploadThing otherwise. */
    storageKey: text("storage_key").notNull(),
    /** Where the worker fetches an UploadThing file from. */
    storageUrl: text("storage_url"),
    /** What the browser claimed; never trusted, shown when it differs from what the bytes are. */
    declaredType: text("declared_type"),
    detectedType: text("detected_type"),
    md5: text("md5"),
    thumbnailSha256: text("thumbnail_sha256").references(() => blobs.sha256),
    imageWidth: integer("image_width"),
    imageHeight: integer("image_height"),
    /** The sample dataset this file was made from, if any. */
    dataset: text("dataset"),
    /** A version of an admin's watched source for everyone: every signed-in person may see, download and copy it. */
    isShared: boolean("is_shared").notNull().default(false),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index("uploads_owner_created_idx").on(table.ownerId, table.createdAt.desc()),
    // A repeated completion callback for the same stored bytes finds its upload instead of adding a second.
    uniqueIndex("uploads_storage_key_idx").on(table.storage, table.storageKey),
    index("uploads_shared_created_idx")
      .on(table.createdAt.desc())
      .where(sql`${table.isShared}`),
  ],
);

export type Upload = typeof uploads.$inferSelect;

export const uploadStepName = pgEnum("upload_step_name", ["checksum", "type", "thumbnail"]);
export type UploadStepName = (typeof uploadStepName.enumValues)[number];
export const uploadStepStatus = pgEnum("upload_step_status", ["queued", "running", "succeeded", "failed"]);
export type UploadStepStatus = (typeof uploadStepStatus.enumValues)[number];

/** One processing step of an upload, each its own job; they finish in any order. */
export const uploadSteps = pgTable(
  "upload_steps",
  {
    uploadId: uuid("upload_id")
      .notNull()
      .references(() => uploads.id, { onDelete: "cascade" }),
    step: uploadStepName("step").notNull(),
    status: uploadStepStatus("status").notNull().default("queued"),
    message: text("message"),
    attempts: integer("attempts").notNull().default(0),
    queuedAt: timestamp("queued_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    workerId: text("worker_id"),
    /**
     * The graphile-worker job that holds the step: only that job may finish it.
     * A re-run replaces the job (graphile-worker lets the old one run on), and
     * the old job's late outcome must not overwrite the new one's.
     */
    jobId: text("job_id"),
    wallMs: integer("wall_ms"),
    cpuMs: integer("cpu_ms"),
    bytesRead: bigint("bytes_read", { mode: "number" }),
    bytesWritten: bigint("bytes_written", { mode: "number" }),
  },
  (table) => [
    primaryKey({ columns: [table.uploadId, table.step] }),
    index("upload_steps_unfinished_idx")
      .on(table.uploadId)
      .where(sql`${table.status} in ('queued', 'running')`),
  ],
);

export type UploadStep = typeof uploadSteps.$inferSelect;
