ALTER TABLE "deals" ADD COLUMN "fine_print" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "deals" ADD COLUMN "pickup_starts_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deals" ADD COLUMN "pickup_ends_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "merchants" ADD COLUMN "time_zone" text DEFAULT 'Europe/Amsterdam' NOT NULL;--> statement-breakpoint
ALTER TABLE "deals" ADD CONSTRAINT "deals_pickup_window" CHECK (("deals"."pickup_starts_at" IS NULL) = ("deals"."pickup_ends_at" IS NULL) AND ("deals"."pickup_starts_at" IS NULL OR "deals"."pickup_starts_at" < "deals"."pickup_ends_at"));