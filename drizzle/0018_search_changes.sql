CREATE TABLE "search_changes" (
	"epoch" bigint PRIMARY KEY NOT NULL,
	"event_id" uuid
);
--> statement-breakpoint
-- Issue 18: a worker's copy of event_words (src/modules/events/search-index.ts) that finds search_epoch moved on reads
-- the rows past its number here and the words of the events they name, and patches itself, instead of dropping
-- everything and reading each word again (seconds of work per worker after every edit). Each move of the number writes
-- its row in the same transaction: a snapshot that sees a number sees every row up to it. A change to categories, or a
-- TRUNCATE, names no event: copies then read everything again, as before.
CREATE OR REPLACE FUNCTION public.search_epoch_bump() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE
  moved bigint;
  changed uuid;
BEGIN
  UPDATE search_epoch SET epoch = epoch + 1 RETURNING epoch INTO moved;
  IF TG_TABLE_NAME = 'events' AND TG_LEVEL = 'ROW' THEN
    IF TG_OP = 'DELETE' THEN
      changed := OLD.id;
    ELSE
      changed := NEW.id;
    END IF;
  END IF;
  INSERT INTO search_changes (epoch, event_id) VALUES (moved, changed);
  -- The log stays short: a copy more than 9,000 changes behind reads everything again.
  IF moved % 1000 = 0 THEN
    DELETE FROM search_changes WHERE epoch <= moved - 10000;
  END IF;
  RETURN NULL;
END
$$;
