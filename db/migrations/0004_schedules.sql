CREATE TYPE "public"."schedule_repeat" AS ENUM('once', 'daily', 'weekdays', 'weekly');--> statement-breakpoint
CREATE TABLE "schedules" (
	"configuration_id" uuid PRIMARY KEY NOT NULL,
	"owner_id" uuid NOT NULL,
	"repeat" "schedule_repeat" NOT NULL,
	"time_of_day" text NOT NULL,
	"date" text,
	"weekday" integer,
	"time_zone" text NOT NULL,
	"next_run_at" timestamp with time zone,
	"last_run_at" timestamp with time zone,
	"last_result_id" uuid,
	"last_message" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "schedules" ADD CONSTRAINT "schedules_configuration_id_configurations_id_fk" FOREIGN KEY ("configuration_id") REFERENCES "public"."configurations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "schedules" ADD CONSTRAINT "schedules_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "schedules" ADD CONSTRAINT "schedules_last_result_id_results_id_fk" FOREIGN KEY ("last_result_id") REFERENCES "public"."results"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "schedules_next_run_idx" ON "schedules" USING btree ("next_run_at");