CREATE TYPE "public"."storage_kind" AS ENUM('local', 'uploadthing');--> statement-breakpoint
CREATE TYPE "public"."upload_step_name" AS ENUM('checksum', 'type', 'thumbnail');--> statement-breakpoint
CREATE TYPE "public"."upload_step_status" AS ENUM('queued', 'running', 'succeeded', 'failed');--> statement-breakpoint
CREATE TABLE "stored_file_chunks" (
	"file_key" uuid NOT NULL,
	"seq" integer NOT NULL,
	"data" "bytea" NOT NULL,
	CONSTRAINT "stored_file_chunks_file_key_seq_pk" PRIMARY KEY("file_key","seq")
);
--> statement-breakpoint
CREATE TABLE "stored_files" (
	"key" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"size" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "upload_steps" (
	"upload_id" uuid NOT NULL,
	"step" "upload_step_name" NOT NULL,
	"status" "upload_step_status" DEFAULT 'queued' NOT NULL,
	"message" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"queued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"worker_id" text,
	"wall_ms" integer,
	"cpu_ms" integer,
	"bytes_read" bigint,
	"bytes_written" bigint,
	CONSTRAINT "upload_steps_upload_id_step_pk" PRIMARY KEY("upload_id","step")
);
--> statement-breakpoint
CREATE TABLE "uploads" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_id" uuid NOT NULL,
	"name" text NOT NULL,
	"size" bigint NOT NULL,
	"storage" "storage_kind" NOT NULL,
	"storage_key" text NOT NULL,
	"storage_url" text,
	"declared_type" text,
	"detected_type" text,
	"md5" text,
	"thumbnail_sha256" text,
	"image_width" integer,
	"image_height" integer,
	"dataset" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "job_logs" ALTER COLUMN "result_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "job_logs" ADD COLUMN "upload_id" uuid;--> statement-breakpoint
ALTER TABLE "stored_file_chunks" ADD CONSTRAINT "stored_file_chunks_file_key_stored_files_key_fk" FOREIGN KEY ("file_key") REFERENCES "public"."stored_files"("key") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "upload_steps" ADD CONSTRAINT "upload_steps_upload_id_uploads_id_fk" FOREIGN KEY ("upload_id") REFERENCES "public"."uploads"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "uploads" ADD CONSTRAINT "uploads_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "uploads" ADD CONSTRAINT "uploads_thumbnail_sha256_blobs_sha256_fk" FOREIGN KEY ("thumbnail_sha256") REFERENCES "public"."blobs"("sha256") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "upload_steps_unfinished_idx" ON "upload_steps" USING btree ("upload_id") WHERE "upload_steps"."status" in ('queued', 'running');--> statement-breakpoint
CREATE INDEX "uploads_owner_created_idx" ON "uploads" USING btree ("owner_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "uploads_storage_key_idx" ON "uploads" USING btree ("storage","storage_key");--> statement-breakpoint
ALTER TABLE "job_logs" ADD CONSTRAINT "job_logs_upload_id_uploads_id_fk" FOREIGN KEY ("upload_id") REFERENCES "public"."uploads"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "job_logs_upload_idx" ON "job_logs" USING btree ("upload_id","id");--> statement-breakpoint
ALTER TABLE "job_logs" ADD CONSTRAINT "job_logs_one_subject" CHECK (num_nonnulls("job_logs"."result_id", "job_logs"."upload_id") = 1);--> statement-breakpoint
-- Chunks are already 1 MiB of mostly incompressible bytes: store them out of line without trying to compress.
ALTER TABLE "stored_file_chunks" ALTER COLUMN "data" SET STORAGE EXTERNAL;
