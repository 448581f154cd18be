DROP INDEX "events_active_date_idx";--> statement-breakpoint
CREATE INDEX "events_active_date_idx" ON "events" USING btree ("is_active","date_time","id");