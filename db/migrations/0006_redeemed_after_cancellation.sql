CREATE TYPE "public"."redemption_conflict_kind" AS ENUM('redeemed_twice', 'redeemed_after_cancellation');--> statement-breakpoint
ALTER TABLE "redemption_conflicts" ALTER COLUMN "first_redemption_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "redemption_conflicts" ADD COLUMN "kind" "redemption_conflict_kind" DEFAULT 'redeemed_twice' NOT NULL;--> statement-breakpoint
ALTER TABLE "redemption_conflicts" ADD CONSTRAINT "redemption_conflicts_first_of_twice" CHECK (("redemption_conflicts"."kind" = 'redeemed_twice') = ("redemption_conflicts"."first_redemption_id" IS NOT NULL));