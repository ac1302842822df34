ALTER TABLE "uploads" ADD COLUMN "is_shared" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "watched_sources" ADD COLUMN "is_shared" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "uploads_shared_created_idx" ON "uploads" USING btree ("created_at" DESC NULLS LAST) WHERE "uploads"."is_shared";