CREATE TYPE "public"."redemption_clock_flag" AS ENUM('before_issue', 'after_receipt');--> statement-breakpoint
DROP INDEX "vouchers_revoked_idx";--> statement-breakpoint
ALTER TABLE "redemption_conflicts" ADD COLUMN "clock_flag" "redemption_clock_flag";--> statement-breakpoint
ALTER TABLE "redemptions" ADD COLUMN "clock_flag" "redemption_clock_flag";--> statement-breakpoint
CREATE INDEX "redemptions_feed_idx" ON "redemptions" USING btree ("merchant_id","received_at","id");--> statement-breakpoint
CREATE INDEX "vouchers_revoked_idx" ON "vouchers" USING btree ("merchant_id","revoked_at","id");