import { sql } from "drizzle-orm";
import { bigint, index, integer, jsonb, pgEnum, pgTable, real, text, timestamp, uuid, type AnyPgColumn } from "drizzle-orm/pg-core";
import type { RenderParams } from "@/lib/validation/configuration";
import { blobs } from "./blobs";
import { configurations } from "./configurations";
import { users } from "./users";

export const resultStatus = pgEnum("result_status", ["queued", "running", "succeeded", "failed", "cancelled", "superseded"]);
export type ResultStatus = (typeof resultStatus.enumValues)[number];
export const UNFINISHED_STATUSES = ["queued", "running"] as const satisfies ResultStatus[];

export const results = pgTable(
  "results",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    configurationId: uuid("configuration_id")
      .notNull()
      .references((): AnyPgColumn => configurations.id, { onDelete: "cascade" }),
    ownerId: uuid("owner_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** Snapshot of what was rendered, and its hash (dedupe of identical saves). */
    params: jsonb("params").$type<RenderParams>().notNull(),
    paramsHash: text("params_hash").notNull(),
    status: resultStatus("status").notNull().default("queued"),
    progress: real("progress").notNull().default(0),
    message: text("message"),
    attempts: integer("attempts").notNull().default(0),
    error: text("error"),
    imageSha256: text("image_sha256").references(() => blobs.sha256),
    thumbnailSha256: text("thumbnail_sha256").references(() => blobs.sha256),
    imageBytes: integer("image_bytes"),
    iterations: bigint("iterations", { mode: "number" }),
    queuedAt: timestamp("queued_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    workerId: text("worker_id"),
    wallMs: integer("wall_ms"),
    cpuMs: integer("cpu_ms"),
  },
  (table) => [
    index("results_configuration_queued_idx").on(table.configurationId, table.queuedAt.desc()),
    // The last finished picture of a configuration (shown, marked stale, while a newer one computes).
    index("results_configuration_succeeded_idx")
      .on(table.configurationId, table.finishedAt.desc())
      .where(sql`${table.status} = 'succeeded'`),
    // A person's activity feed: unfinished and recently finished results.
    index("results_owner_finished_idx").on(table.ownerId, table.finishedAt.desc()),
    // The Jobs API's list of a person's renders, newest first, paged by (queued_at, id).
    index("results_owner_queued_idx").on(table.ownerId, table.queuedAt.desc(), table.id.desc()),
    index("results_owner_unfinished_idx")
      .on(table.ownerId)
      .where(sql`${table.status} in ('queued', 'running')`),
  ],
);

export type Result = typeof results.$inferSelect;
