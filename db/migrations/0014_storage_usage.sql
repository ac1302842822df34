CREATE TABLE "storage_usage" (
	"owner_id" uuid PRIMARY KEY NOT NULL,
	"bytes" bigint DEFAULT 0 NOT NULL,
	"files" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE "storage_usage" ADD CONSTRAINT "storage_usage_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- What everyone stores already. Uploads are locked against writes until the migration commits, so none is added or deleted uncounted meanwhile.
LOCK TABLE "uploads" IN SHARE MODE;
--> statement-breakpoint
INSERT INTO "storage_usage" ("owner_id", "bytes", "files")
SELECT "owner_id", coalesce(sum("size"), 0), count(*) FROM "uploads" GROUP BY "owner_id";
