ALTER TABLE "users" ADD COLUMN "api_window_started_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "api_window_requests" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "webdav_window_started_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "webdav_window_requests" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "api_tokens" DROP COLUMN "rate_window_started_at";--> statement-breakpoint
ALTER TABLE "api_tokens" DROP COLUMN "rate_window_requests";