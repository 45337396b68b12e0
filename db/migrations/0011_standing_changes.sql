ALTER TABLE "users" ADD COLUMN "standing_changed_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "users_standing_changed_idx" ON "users" USING btree ("standing_changed_at");--> statement-breakpoint
-- As in 0009, and the moment standing_version moves is kept: the background sweep follows the
-- accounts changed lately, so a change made in SQL behind the app's back (which publishes
-- nothing) still reaches every process's cached standing within a sweep.
CREATE OR REPLACE FUNCTION "users_session_standing"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.role, NEW.merchant_id, NEW.deactivated_at) IS DISTINCT FROM (OLD.role, OLD.merchant_id, OLD.deactivated_at)
     AND NEW.session_generation = OLD.session_generation THEN
    NEW.session_generation := OLD.session_generation + 1;
  END IF;
  IF NEW.session_generation <> OLD.session_generation AND NEW.standing_version = OLD.standing_version THEN
    NEW.standing_version := OLD.standing_version + 1;
  END IF;
  IF NEW.standing_version <> OLD.standing_version THEN
    NEW.standing_changed_at := now();
  END IF;
  RETURN NEW;
END;
$$;
