-- Hand-added before the generated indexes: event search is case- and accent-insensitive and served by trigram
-- indexes. unaccent() is only STABLE (its dictionary could change), so an index needs an IMMUTABLE wrapper that
-- names the dictionary explicitly. PGlite loads both extensions too (pgliteExtensions in src/db/client.ts).
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;--> statement-breakpoint
CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;--> statement-breakpoint
CREATE OR REPLACE FUNCTION public.immutable_unaccent(text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;--> statement-breakpoint
CREATE INDEX "events_title_trgm_idx" ON "events" USING gin (immutable_unaccent("title") gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "events_description_trgm_idx" ON "events" USING gin (immutable_unaccent("description") gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "events_location_trgm_idx" ON "events" USING gin (immutable_unaccent("location") gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "events_active_created_idx" ON "events" USING btree ("created_at","id") WHERE "events"."is_active";--> statement-breakpoint
CREATE INDEX "events_active_title_idx" ON "events" USING btree ("title","date_time","id") WHERE "events"."is_active";