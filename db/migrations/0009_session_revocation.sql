CREATE TABLE "ended_sessions" (
	"session_id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"generation" integer NOT NULL,
	"ended_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "merchant_devices" ADD COLUMN "kept_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "merchant_devices" ADD COLUMN "kept_by" text;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "session_generation" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "standing_version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "deactivated_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "ended_sessions" ADD CONSTRAINT "ended_sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ended_sessions_user_idx" ON "ended_sessions" USING btree ("user_id","generation");--> statement-breakpoint
ALTER TABLE "merchant_devices" ADD CONSTRAINT "merchant_devices_kept_by_users_id_fk" FOREIGN KEY ("kept_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint-- A role, merchant or deactivation change ends the account's sessions whoever makes it (the
-- app, a psql session, a script): the generation moves with it. Every change to what a session
-- check reads moves standing_version, which orders the cached copies (server/auth/account-standing.ts).
CREATE FUNCTION "users_session_standing"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.role, NEW.merchant_id, NEW.deactivated_at) IS DISTINCT FROM (OLD.role, OLD.merchant_id, OLD.deactivated_at)
     AND NEW.session_generation = OLD.session_generation THEN
    NEW.session_generation := OLD.session_generation + 1;
  END IF;
  IF NEW.session_generation <> OLD.session_generation AND NEW.standing_version = OLD.standing_version THEN
    NEW.standing_version := OLD.standing_version + 1;
  END IF;
  RETURN NEW;
END;
$$;--> statement-breakpoint
CREATE TRIGGER "users_session_standing" BEFORE UPDATE ON "users"
  FOR EACH ROW EXECUTE FUNCTION "users_session_standing"();
