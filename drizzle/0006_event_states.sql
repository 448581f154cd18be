ALTER TABLE "events" ADD COLUMN "cancelled_at" timestamp with time zone;--> statement-breakpoint
-- Until now the only way to make an event inactive was to cancel it (DELETE).
UPDATE "events" SET "cancelled_at" = "updated_at" WHERE NOT "is_active";--> statement-breakpoint
CREATE INDEX "events_not_cancelled_date_idx" ON "events" USING btree ("date_time") WHERE "events"."cancelled_at" IS NULL;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_cancelled_unpublished" CHECK ("events"."cancelled_at" IS NULL OR NOT "events"."is_active");
