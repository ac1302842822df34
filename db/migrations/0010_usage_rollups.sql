CREATE TABLE "usage_daily" (
	"owner_id" uuid NOT NULL,
	"day" date NOT NULL,
	"kind" text NOT NULL,
	"jobs" integer NOT NULL,
	"attempts" integer NOT NULL,
	"wall_ms" bigint NOT NULL,
	"cpu_ms" bigint NOT NULL,
	"bytes_read" bigint NOT NULL,
	"bytes_written" bigint NOT NULL,
	CONSTRAINT "usage_daily_owner_id_day_kind_pk" PRIMARY KEY("owner_id","day","kind")
);
--> statement-breakpoint
CREATE TABLE "usage_rollups" (
	"day" date PRIMARY KEY NOT NULL,
	"rolled_up_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "usage_daily" ADD CONSTRAINT "usage_daily_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;