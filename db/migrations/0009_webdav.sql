CREATE TYPE "public"."webdav_entry_kind" AS ENUM('folder', 'file');--> statement-breakpoint
CREATE TABLE "webdav_entries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_id" uuid NOT NULL,
	"path" text NOT NULL,
	"kind" "webdav_entry_kind" NOT NULL,
	"upload_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"modified_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webdav_entries_upload_id_unique" UNIQUE("upload_id"),
	CONSTRAINT "webdav_entries_kind_upload_check" CHECK (("webdav_entries"."kind" = 'file') = ("webdav_entries"."upload_id" is not null))
);
--> statement-breakpoint
CREATE TABLE "webdav_properties" (
	"entry_id" uuid NOT NULL,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"value" text NOT NULL,
	CONSTRAINT "webdav_properties_entry_id_namespace_name_pk" PRIMARY KEY("entry_id","namespace","name")
);
--> statement-breakpoint
ALTER TABLE "webdav_entries" ADD CONSTRAINT "webdav_entries_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webdav_entries" ADD CONSTRAINT "webdav_entries_upload_id_uploads_id_fk" FOREIGN KEY ("upload_id") REFERENCES "public"."uploads"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webdav_properties" ADD CONSTRAINT "webdav_properties_entry_id_webdav_entries_id_fk" FOREIGN KEY ("entry_id") REFERENCES "public"."webdav_entries"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "webdav_entries_owner_path_idx" ON "webdav_entries" USING btree ("owner_id","path");