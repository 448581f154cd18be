-- Issue 18: ?search= through the words of each event (event_words and search_words in src/db/schema.ts).
--
-- An event's words as event_words holds them: its search_text lower-cased (ILIKE compares lower-cased text: a term
-- matches exactly when its lower-cased form occurs in the lower-cased text), split at ASCII white space. A term
-- holding none of those characters can only occur within one word, so its events are those holding a word that
-- contains it.
CREATE OR REPLACE FUNCTION public.search_text_words(search_text text) RETURNS SETOF text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT DISTINCT w FROM regexp_split_to_table(lower(search_text), '[ \t\n\r\f\v]+') AS w WHERE w <> '' $$;--> statement-breakpoint
CREATE TABLE "event_words" (
	"event_id" uuid NOT NULL,
	"word" text NOT NULL,
	"category_id" uuid,
	"date_time" timestamp with time zone NOT NULL,
	"is_active" boolean NOT NULL,
	CONSTRAINT "event_words_pkey" PRIMARY KEY("event_id","word")
);
--> statement-breakpoint
CREATE TABLE "search_words" (
	"word" text PRIMARY KEY NOT NULL
);
--> statement-breakpoint
INSERT INTO "search_words" ("word") SELECT DISTINCT w FROM "events", search_text_words("events"."search_text") AS w;--> statement-breakpoint
INSERT INTO "event_words" ("event_id", "word", "category_id", "date_time", "is_active")
  SELECT e."id", w, e."category_id", e."date_time", e."is_active" FROM "events" e, search_text_words(e."search_text") AS w;--> statement-breakpoint
ALTER TABLE "event_words" ADD CONSTRAINT "event_words_event_id_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."events"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "event_words_lookup_idx" ON "event_words" USING btree ("word","category_id","date_time","is_active","event_id");--> statement-breakpoint
CREATE INDEX "search_words_trgm_idx" ON "search_words" USING gin ("word" gin_trgm_ops);--> statement-breakpoint
-- Kept in the event's own transaction: a search sees the words of exactly the events its snapshot sees. Only a change
-- of the text rewrites the words; a change of what a search filters by (category, date, publication) is copied onto
-- them. Seat changes touch none of these columns and do not fire it.
CREATE OR REPLACE FUNCTION public.event_words_sync() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.search_text IS NOT DISTINCT FROM OLD.search_text THEN
    UPDATE event_words SET category_id = NEW.category_id, date_time = NEW.date_time, is_active = NEW.is_active
      WHERE event_id = NEW.id;
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    DELETE FROM event_words WHERE event_id = NEW.id;
  END IF;
  -- In word order, so two transactions adding the same new words wait for each other instead of deadlocking.
  INSERT INTO search_words (word) SELECT w FROM search_text_words(NEW.search_text) AS w ORDER BY w ON CONFLICT DO NOTHING;
  INSERT INTO event_words (event_id, word, category_id, date_time, is_active)
    SELECT NEW.id, w, NEW.category_id, NEW.date_time, NEW.is_active FROM search_text_words(NEW.search_text) AS w;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER event_words_on_insert AFTER INSERT ON "events" FOR EACH ROW EXECUTE FUNCTION event_words_sync();--> statement-breakpoint
CREATE TRIGGER event_words_on_update AFTER UPDATE OF "title", "description", "location", "category_id", "date_time", "is_active" ON "events"
  FOR EACH ROW
  WHEN (OLD.search_text IS DISTINCT FROM NEW.search_text OR OLD.category_id IS DISTINCT FROM NEW.category_id
    OR OLD.date_time IS DISTINCT FROM NEW.date_time OR OLD.is_active IS DISTINCT FROM NEW.is_active)
  EXECUTE FUNCTION event_words_sync();
