CREATE TABLE "event_word_months" (
	"word" text NOT NULL,
	"category_id" uuid,
	"is_active" boolean NOT NULL,
	"month" timestamp with time zone NOT NULL,
	"events" integer NOT NULL,
	CONSTRAINT "event_word_months_key" UNIQUE NULLS NOT DISTINCT("word","category_id","is_active","month")
);
--> statement-breakpoint
-- Issue 18: a search's count from whole months. event_word_months holds, per word, category, publication and calendar
-- month (UTC), how many event_words rows there are; statement triggers on event_words keep it in the same transaction
-- (event_words itself is kept by event_words_sync, migration 0013, in the event's own transaction).
CREATE OR REPLACE FUNCTION public.event_word_month(date_time timestamptz) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT date_trunc('month', date_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' $$;--> statement-breakpoint
-- The changes of one statement, added up per month row and applied in key order: two transactions adding the same
-- words wait for each other instead of deadlocking. A transition table is named only where the operation has it.
CREATE OR REPLACE FUNCTION public.event_word_months_sync() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO event_word_months AS m (word, category_id, is_active, month, events)
      SELECT word, category_id, is_active, event_word_month(date_time), count(*) FROM added
      GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
      ON CONFLICT (word, category_id, is_active, month) DO UPDATE SET events = m.events + excluded.events;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO event_word_months AS m (word, category_id, is_active, month, events)
      SELECT word, category_id, is_active, event_word_month(date_time), -count(*) FROM removed
      GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
      ON CONFLICT (word, category_id, is_active, month) DO UPDATE SET events = m.events + excluded.events;
  ELSE
    INSERT INTO event_word_months AS m (word, category_id, is_active, month, events)
      SELECT word, category_id, is_active, month, sum(change) FROM (
          SELECT word, category_id, is_active, event_word_month(date_time) AS month, 1 AS change FROM added
          UNION ALL
          SELECT word, category_id, is_active, event_word_month(date_time), -1 FROM removed
        ) AS changes
      GROUP BY 1, 2, 3, 4 HAVING sum(change) <> 0 ORDER BY 1, 2, 3, 4
      ON CONFLICT (word, category_id, is_active, month) DO UPDATE SET events = m.events + excluded.events;
  END IF;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER event_word_months_on_insert AFTER INSERT ON "event_words" REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION event_word_months_sync();--> statement-breakpoint
CREATE TRIGGER event_word_months_on_delete AFTER DELETE ON "event_words" REFERENCING OLD TABLE AS removed
  FOR EACH STATEMENT EXECUTE FUNCTION event_word_months_sync();--> statement-breakpoint
CREATE TRIGGER event_word_months_on_update AFTER UPDATE ON "event_words" REFERENCING OLD TABLE AS removed NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION event_word_months_sync();--> statement-breakpoint
INSERT INTO "event_word_months" ("word", "category_id", "is_active", "month", "events")
  SELECT "word", "category_id", "is_active", event_word_month("date_time"), count(*) FROM "event_words" GROUP BY 1, 2, 3, 4;--> statement-breakpoint
ANALYZE "event_word_months";
