-- The event as the API's JSON (toEventResponse in src/modules/events/events.present.ts), for the stored column
-- events.api_json. IMMUTABLE is true of what it does: fixed UTC zone, a format without locale-dependent fields,
-- and output functions of uuid, text, integer, boolean and double precision.
CREATE OR REPLACE FUNCTION public.iso_utc(timestamptz) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  RETURN to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');--> statement-breakpoint
CREATE OR REPLACE FUNCTION public.event_api_json(
  id uuid, title text, description text, location text, date_time timestamptz, end_time timestamptz, capacity integer,
  registered_count integer, waitlist_count integer, threshold integer, is_active boolean, cancelled_at timestamptz,
  is_recurring boolean, organizer_id uuid, category_id uuid, rating_sum integer, rating_count integer,
  created_at timestamptz, updated_at timestamptz
) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN json_build_object(
    'id', id, 'title', title, 'description', description, 'location', location,
    'date_time', iso_utc(date_time), 'end_time', iso_utc(end_time), 'capacity', capacity,
    'registered_count', registered_count, 'waitlist_count', waitlist_count,
    'event_ticket_sells_off_soon', threshold, 'tickets_remaining', capacity - registered_count,
    'is_selling_out_soon', threshold > 0 AND capacity - registered_count > 0 AND capacity - registered_count <= threshold,
    'is_sold_out', capacity - registered_count = 0, 'is_active', is_active,
    'status', CASE WHEN cancelled_at IS NOT NULL THEN 'cancelled' WHEN is_active THEN 'published' ELSE 'unpublished' END,
    'is_recurring', is_recurring, 'organizer', organizer_id, 'category', category_id,
    'rating_average', CASE WHEN rating_count > 0 THEN round((rating_sum * 10)::numeric / rating_count)::float8 / 10 END,
    'rating_count', rating_count, 'created_at', iso_utc(created_at), 'updated_at', iso_utc(updated_at)
  )::text;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "api_json" text GENERATED ALWAYS AS (event_api_json("events"."id", "events"."title", "events"."description", "events"."location", "events"."date_time", "events"."end_time", "events"."capacity", "events"."registered_count", "events"."waitlist_count", "events"."event_ticket_sells_off_soon", "events"."is_active", "events"."cancelled_at", "events"."is_recurring", "events"."organizer_id", "events"."category_id", "events"."rating_sum", "events"."rating_count", "events"."created_at", "events"."updated_at")) STORED NOT NULL;