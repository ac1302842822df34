CREATE TYPE "public"."user_role" AS ENUM('user', 'admin');--> statement-breakpoint
CREATE TYPE "public"."user_tier" AS ENUM('free', 'pro');--> statement-breakpoint
CREATE TYPE "public"."result_status" AS ENUM('queued', 'running', 'succeeded', 'failed', 'cancelled', 'superseded');--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" text NOT NULL,
	"password_hash" text NOT NULL,
	"role" "user_role" DEFAULT 'user' NOT NULL,
	"tier" "user_tier" DEFAULT 'free' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_email_unique" UNIQUE("email")
);
--> statement-breakpoint
CREATE TABLE "blobs" (
	"sha256" text PRIMARY KEY NOT NULL,
	"content_type" text NOT NULL,
	"size" integer NOT NULL,
	"data" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "configurations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_id" uuid NOT NULL,
	"name" text NOT NULL,
	"re" double precision NOT NULL,
	"im" double precision NOT NULL,
	"depth" integer NOT NULL,
	"width" integer NOT NULL,
	"height" integer NOT NULL,
	"zoom" double precision NOT NULL,
	"cx" double precision NOT NULL,
	"cy" double precision NOT NULL,
	"colormap" text NOT NULL,
	"current_result_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "results" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"configuration_id" uuid NOT NULL,
	"owner_id" uuid NOT NULL,
	"params" jsonb NOT NULL,
	"params_hash" text NOT NULL,
	"status" "result_status" DEFAULT 'queued' NOT NULL,
	"progress" real DEFAULT 0 NOT NULL,
	"message" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"error" text,
	"image_sha256" text,
	"thumbnail_sha256" text,
	"image_bytes" integer,
	"iterations" bigint,
	"queued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"worker_id" text,
	"wall_ms" integer,
	"cpu_ms" integer
);
--> statement-breakpoint
ALTER TABLE "configurations" ADD CONSTRAINT "configurations_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "configurations" ADD CONSTRAINT "configurations_current_result_id_results_id_fk" FOREIGN KEY ("current_result_id") REFERENCES "public"."results"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "results" ADD CONSTRAINT "results_configuration_id_configurations_id_fk" FOREIGN KEY ("configuration_id") REFERENCES "public"."configurations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "results" ADD CONSTRAINT "results_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "results" ADD CONSTRAINT "results_image_sha256_blobs_sha256_fk" FOREIGN KEY ("image_sha256") REFERENCES "public"."blobs"("sha256") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "results" ADD CONSTRAINT "results_thumbnail_sha256_blobs_sha256_fk" FOREIGN KEY ("thumbnail_sha256") REFERENCES "public"."blobs"("sha256") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "configurations_owner_created_idx" ON "configurations" USING btree ("owner_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "results_configuration_queued_idx" ON "results" USING btree ("configuration_id","queued_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "results_configuration_succeeded_idx" ON "results" USING btree ("configuration_id","finished_at" DESC NULLS LAST) WHERE "results"."status" = 'succeeded';--> statement-breakpoint
CREATE INDEX "results_owner_finished_idx" ON "results" USING btree ("owner_id","finished_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "results_owner_unfinished_idx" ON "results" USING btree ("owner_id") WHERE "results"."status" in ('queued', 'running');