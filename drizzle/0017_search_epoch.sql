CREATE TABLE "search_epoch" (
	"id" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"epoch" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "search_epoch_one_row" CHECK ("search_epoch"."id")
);
--> statement-breakpoint
-- Issue 18: a worker keeps the words of event_words in memory for searches (src/modules/events/search-index.ts) and
-- uses them only while search_epoch holds the number it loaded them with. Every change to what such a search finds
-- moves the number on in the changing transaction, so a snapshot sees a change and its new number together. The
-- triggers are deferred to commit, the row's lock is then the last one a transaction takes: two transactions that
-- change events cannot each hold what the other waits for. Seat changes (registered_count) fire none of them.
INSERT INTO "search_epoch" ("id", "epoch") VALUES (true, 0);--> statement-breakpoint
CREATE OR REPLACE FUNCTION public.search_epoch_bump() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  UPDATE search_epoch SET epoch = epoch + 1;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE CONSTRAINT TRIGGER search_epoch_on_event_insert_delete AFTER INSERT OR DELETE ON "events"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION search_epoch_bump();--> statement-breakpoint
-- The columns and condition of event_words_on_update (migration 0013): exactly the updates that change event_words.
CREATE CONSTRAINT TRIGGER search_epoch_on_event_update
  AFTER UPDATE OF "title", "description", "location", "category_id", "date_time", "is_active" ON "events"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (OLD.search_text IS DISTINCT FROM NEW.search_text OR OLD.category_id IS DISTINCT FROM NEW.category_id
    OR OLD.date_time IS DISTINCT FROM NEW.date_time OR OLD.is_active IS DISTINCT FROM NEW.is_active)
  EXECUTE FUNCTION search_epoch_bump();--> statement-breakpoint
-- A search names its category by slug.
CREATE CONSTRAINT TRIGGER search_epoch_on_category_change AFTER INSERT OR UPDATE OR DELETE ON "categories"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION search_epoch_bump();--> statement-breakpoint
-- TRUNCATE fires no row trigger.
CREATE TRIGGER search_epoch_on_event_truncate AFTER TRUNCATE ON "events"
  FOR EACH STATEMENT EXECUTE FUNCTION search_epoch_bump();--> statement-breakpoint
CREATE TRIGGER search_epoch_on_category_truncate AFTER TRUNCATE ON "categories"
  FOR EACH STATEMENT EXECUTE FUNCTION search_epoch_bump();
