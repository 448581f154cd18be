-- Issue 18: an event's words are split at ASCII punctuation as well as white space, i.e. at every ASCII character
-- that is not a letter or a digit ("Jazz." and "jazz" are one word, "warm-up" two). A term holding none of those
-- characters (once lower-cased and unaccented) can still only occur within one word; a term holding one is searched
-- in search_text instead (events.repository.ts, WORD_SEPARATOR). Before, most terms matched two or more words
-- ("jazz", "jazz.") and every count was a distinct count over them; now 94% of the bench's searches match one word.
CREATE OR REPLACE FUNCTION public.search_text_words(search_text text) RETURNS SETOF text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT DISTINCT w FROM regexp_split_to_table(lower(search_text), '[\x01-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+') AS w WHERE w <> '' $$;--> statement-breakpoint
TRUNCATE "event_words", "search_words";--> statement-breakpoint
INSERT INTO "search_words" ("word") SELECT DISTINCT w FROM "events", search_text_words("events"."search_text") AS w;--> statement-breakpoint
INSERT INTO "event_words" ("event_id", "word", "category_id", "date_time", "is_active")
  SELECT e."id", w, e."category_id", e."date_time", e."is_active" FROM "events" e, search_text_words(e."search_text") AS w;--> statement-breakpoint
-- Fresh statistics for the rebuilt tables. Until a VACUUM has also marked their pages all-visible (it cannot run in a
-- migration's transaction), a search's index-only scans visit the table too: 5 times slower on the bench's 1.8 million
-- words. Autovacuum (on by default) does it soon after; where it is off, run VACUUM ANALYZE event_words (README).
ANALYZE "event_words";--> statement-breakpoint
ANALYZE "search_words";
