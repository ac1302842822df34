CREATE TABLE "watched_sources" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_id" uuid NOT NULL,
	"url" text NOT NULL,
	"interval_minutes" integer DEFAULT 60 NOT NULL,
	"etag" text,
	"last_modified" text,
	"last_sha256" text,
	"last_checked_at" timestamp with time zone,
	"next_check_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_upload_id" uuid,
	"last_status" text,
	"versions" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "watched_sources_interval" CHECK ("watched_sources"."interval_minutes" in (5, 15, 60, 360, 1440))
);
--> statement-breakpoint
ALTER TABLE "watched_sources" ADD CONSTRAINT "watched_sources_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "watched_sources" ADD CONSTRAINT "watched_sources_last_upload_id_uploads_id_fk" FOREIGN KEY ("last_upload_id") REFERENCES "public"."uploads"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "watched_sources_next_check_idx" ON "watched_sources" USING btree ("next_check_at");--> statement-breakpoint
CREATE UNIQUE INDEX "watched_sources_owner_url_idx" ON "watched_sources" USING btree ("owner_id","url");