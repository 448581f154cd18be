import { and, asc, count, desc, eq, sql, type SQL } from 'drizzle-orm';
import { escapeLiteral } from 'pg';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Db } from '../../db/client.js';
import { coalescedByIds, coalescedReads } from '../../db/coalesce.js';
import { preparedPerDb, unmappedRows } from '../../db/prepared.js';
import { pageTextOf, RowVersionCache, versionItem, type PageJson } from '../../db/row-version-cache.js';
import { oneRow } from '../../db/sql-json.js';
import { eventJsonSql } from './events.present.js';
import { categories, events } from '../../db/schema.js';
import { SearchIndex } from './search-index.js';
import type { Ordering } from './events.schemas.js';

export type EventRow = typeof events.$inferSelect;
export type NewEvent = typeof events.$inferInsert;

// The event detail route's one query: prepared, so neither Drizzle nor PostgreSQL rebuilds it per request.
const eventById = preparedPerDb((db) =>
  db
    .select()
    .from(events)
    .where(eq(events.id, sql.placeholder('id')))
    .limit(1)
    .prepare('event_by_id'),
);

export async function findEventById(db: Db, id: string): Promise<EventRow | undefined> {
  const [row] = await eventById(db).execute({ id });
  return row;
}

export async function insertEvent(db: Db, values: NewEvent): Promise<EventRow> {
  const [row] = await db.insert(events).values(values).returning();
  return row!;
}

export async function updateEventRow(db: Db, id: string, values: Partial<NewEvent>): Promise<EventRow> {
  const [row] = await db.update(events).set(values).where(eq(events.id, id)).returning();
  return row!;
}

export interface EventFilter {
  activeOnly?: boolean;
  /** Only active (true) or only cancelled (false) events; for staff, who see both. */
  isActive?: boolean;
  /** Events at or after this instant. */
  from?: Date;
  /** `from` is the moment of the request (the upcoming events), not a date the caller gave. */
  fromIsNow?: boolean;
  /** Events at or before this instant. */
  toInclusive?: Date;
  /** Events strictly before this instant (a date_to given as a day ends at the next midnight). */
  toExclusive?: Date;
  search?: string;
  location?: string;
  categoryId?: string;
  /** The category with this slug (none: no event matches). */
  categorySlug?: string;
  organizerId?: string;
  sellingOutSoon?: boolean;
  hasSeats?: boolean;
}

// seat-rule.ts's freeSeats and isSellingOutSoon, in SQL for the list's filters and ordering (test/events-list.test.ts
// holds the filters to the flags the responses show).
const ticketsRemaining = sql`(${events.capacity} - ${events.registeredCount})`;
const sellingOutSoon = sql`(${events.sellsOffSoonThreshold} > 0 AND ${ticketsRemaining} > 0 AND ${ticketsRemaining} <= ${events.sellsOffSoonThreshold})`;

/**
 * ILIKE pattern "contains `term`", accents removed as the trigram indexes' expression removes them, and the
 * LIKE wildcards % and _ (and the escape character) in the term matched literally.
 */
const containsPattern = (term: unknown) => likeContaining(sql`immutable_unaccent(${term})`);
/** The LIKE pattern "contains `text`", with % _ and \ in it matched literally. */
const likeContaining = (text: SQL) => sql`'%' || replace(replace(replace(${text}, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'`;
const unaccentedContains = (column: AnyPgColumn, pattern: SQL) => sql`immutable_unaccent(${column}) ILIKE ${pattern}`;

const categoryWithSlug = (slug: unknown) => sql`(select ${categories.id} from ${categories} where ${categories.slug} = ${slug})`;

/**
 * A value in a condition: a parameter's value, a named placeholder for a statement prepared once per shape
 * (listEventsJson), or an SQL literal (a text search's statement, planned for its values: see runList).
 */
type Bind = (name: keyof EventFilter, value: unknown) => unknown;
const inline: Bind = (_name, value) => (value instanceof Date ? value.toISOString() : value);
const literal: Bind = (name, value) => sql.raw(escapeLiteral(String(inline(name, value))));
/** A page's limit, offset or known total written into a statement (always integers: the query schema says so). */
const integerLiteral = (value: number) => {
  if (!Number.isSafeInteger(value)) throw new TypeError(`not an integer: ${value}`);
  return sql.raw(String(value));
};

function whereClause(filter: EventFilter, bind: Bind = inline): SQL | undefined {
  const conditions: (SQL | undefined)[] = [];
  if (filter.activeOnly) conditions.push(sql`${events.isActive}`);
  if (filter.isActive !== undefined) conditions.push(filter.isActive ? sql`${events.isActive}` : sql`not ${events.isActive}`);
  if (filter.from) conditions.push(sql`${events.dateTime} >= ${bind('from', filter.from)}`);
  if (filter.toInclusive) conditions.push(sql`${events.dateTime} <= ${bind('toInclusive', filter.toInclusive)}`);
  if (filter.toExclusive) conditions.push(sql`${events.dateTime} < ${bind('toExclusive', filter.toExclusive)}`);
  // Title, description or location (search_text holds the three, accents removed).
  if (filter.search) conditions.push(sql`${events.searchText} ILIKE ${containsPattern(bind('search', filter.search))}`);
  if (filter.location) conditions.push(unaccentedContains(events.location, containsPattern(bind('location', filter.location))));
  if (filter.categoryId) conditions.push(sql`${events.categoryId} = ${bind('categoryId', filter.categoryId)}`);
  if (filter.categorySlug) conditions.push(sql`${events.categoryId} = ${categoryWithSlug(bind('categorySlug', filter.categorySlug))}`);
  if (filter.organizerId) conditions.push(sql`${events.organizerId} = ${bind('organizerId', filter.organizerId)}`);
  if (filter.sellingOutSoon !== undefined) conditions.push(filter.sellingOutSoon ? sellingOutSoon : sql`NOT ${sellingOutSoon}`);
  if (filter.hasSeats !== undefined) conditions.push(filter.hasSeats ? sql`${ticketsRemaining} > 0` : sql`${ticketsRemaining} = 0`);
  return and(...conditions);
}

/** Every ordering ends with the id, so pages never overlap or skip rows that tie. */
const orderKeys: Record<Ordering, Array<[SQL | AnyPgColumn, 'asc' | 'desc']>> = {
  date_time: [
    [events.dateTime, 'asc'],
    [events.id, 'asc'],
  ],
  '-date_time': [
    [events.dateTime, 'desc'],
    [events.id, 'desc'],
  ],
  created_at: [
    [events.createdAt, 'asc'],
    [events.id, 'asc'],
  ],
  '-created_at': [
    [events.createdAt, 'desc'],
    [events.id, 'desc'],
  ],
  title: [
    [events.title, 'asc'],
    [events.dateTime, 'asc'],
    [events.id, 'asc'],
  ],
  tickets_remaining: [
    [ticketsRemaining, 'asc'],
    [events.dateTime, 'asc'],
    [events.id, 'asc'],
  ],
};
const orderings = Object.fromEntries(
  Object.entries(orderKeys).map(([name, keys]) => [name, keys.map(([key, dir]) => (dir === 'asc' ? asc(key) : desc(key)))]),
) as Record<Ordering, SQL[]>;

/** The filters whose values travel as parameters (the others change the statement's text). */
const BOUND_KEYS = ['from', 'toInclusive', 'toExclusive', 'search', 'location', 'categoryId', 'categorySlug', 'organizerId'] as const;

/** The parts of a filter that change a list statement's text (the values travel as parameters). */
function filterShape(filter: EventFilter): string {
  const present = BOUND_KEYS.filter((key) => filter[key] !== undefined).join(',');
  return `${filter.activeOnly ?? ''}|${filter.isActive ?? ''}|${present}|${filter.sellingOutSoon ?? ''}|${filter.hasSeats ?? ''}`;
}

const placeholder: Bind = (name) => sql.placeholder(name);

type Page = { limit: number; offset: number; knownTotal?: number };

/** What a list statement gives per event: its stored JSON, or its id and row version for eventJsonByVersion. */
type ListItem = 'json' | 'version';

function buildListJson(db: Db, filter: EventFilter, ordering: Ordering, page: Page, prepared: boolean, item: ListItem) {
  const value = (name: keyof Page) => (prepared ? sql.placeholder(name) : integerLiteral(page[name] ?? 0));
  const where = whereClause(filter, prepared ? placeholder : literal);
  const total =
    page.knownTotal === undefined
      ? sql<number>`(select count(*) from ${events} where ${where ?? sql`true`})`.mapWith(Number)
      : sql<number>`${value('knownTotal')}::int`.mapWith(Number);
  const rows = sql`select ${item === 'json' ? eventJsonSql : versionItem(sql`${events.id}`, sql`${events}.xmin::text`)} from ${events}
        ${where ? sql`where ${where}` : sql``}
        order by ${sql.join(orderings[ordering], sql`, `)}
        limit ${value('limit')} offset ${value('offset')}`;
  return db.select({ total, results: pageTextOf(item, rows) }).from(oneRow);
}

// Per database handle: one prepared statement per shape of list (built by Drizzle once, planned once per pooled
// connection). Building this statement cost Node more than PostgreSQL spent running it.
type ListRow = { total: number; results: string; spaced?: boolean };
type ListStatement = { execute(values: Record<string, unknown>): Promise<ListRow[]> };
const listJsonStatements = new WeakMap<Db, LRUCache<string, ListStatement>>();

function preparedList(db: Db, shape: string, build: () => { prepare(name: string): ListStatement }): ListStatement {
  let statements = listJsonStatements.get(db);
  if (!statements) listJsonStatements.set(db, (statements = new LRUCache({ max: 500 })));
  let statement = statements.get(shape);
  if (!statement) {
    const name = `events_json_${createHash('sha1').update(shape).digest('base64url').slice(0, 22)}`;
    statements.set(shape, (statement = build().prepare(name)));
  }
  return statement;
}

async function runList(db: Db, filter: EventFilter, ordering: Ordering, page: Page, item: ListItem): Promise<ListRow> {
  const values: Record<string, unknown> = { limit: page.limit, offset: page.offset, knownTotal: page.knownTotal ?? 0 };
  for (const key of BOUND_KEYS) if (filter[key] !== undefined) values[key] = inline(key, filter[key]);
  const shape = `${filterShape(filter)}|${ordering}|${page.knownTotal === undefined}|${item}`;
  if (searchesByWords(filter, ordering)) {
    // Prepared: whatever the term, the plan is the same walk of the words that contain it.
    const statement = preparedList(db, `words|${shape}`, () => buildWordSearch(db, filter, ordering, page, item));
    const [row] = await statement.execute(values);
    if (!row!.spaced) return row!;
  }
  // A '%term%' search is planned for its term (is it rare enough for the trigram index, or is the category's date
  // index better?): a generic plan cannot know and read 100 times more. Its values are written into the statement,
  // which then has no parameters and is planned for them (the pool's connections plan parameters generically).
  if (filter.search !== undefined || filter.location !== undefined) {
    const [row] = await buildListJson(db, filter, ordering, page, false, item);
    return row!;
  }
  const statement = preparedList(db, shape, () => buildListJson(db, filter, ordering, page, true, item));
  // The same list asked for by several requests at once is read once (coalescedReads). For the upcoming events, each
  // request's "now" differs by a few milliseconds: they are one list, read as of the latest of them.
  const { from, ...rest } = values;
  const sameList = `${shape}|${JSON.stringify(filter.fromIsNow ? rest : values)}`;
  return sharedListRead(db, sameList, { statement, values, from: typeof from === 'string' ? from : '' });
}

type ListRead = { statement: ListStatement; values: Record<string, unknown>; from: string };
const sharedListRead = coalescedReads<ListRead, ListRow>(async (_db, _key, asks) => {
  const latest = asks.reduce((a, b) => (b.from > a.from ? b : a));
  const [row] = await latest.statement.execute(latest.values);
  return asks.map(() => row!);
});

// ---- ?search= through the words of each event (event_words, migration 0013) ----

/** What event_words splits an event's text at: every ASCII character but letters and digits (migration 0015). */
const WORD_SEPARATOR = /[^a-zA-Z0-9\u0080-\uffff]/;
/** The filters event_words carries; a list with any other (location, organizer, seats) searches search_text. */
const WORD_SEARCH_FILTERS: ReadonlySet<string> = new Set<keyof EventFilter>([
  'search',
  'activeOnly',
  'isActive',
  'from',
  'fromIsNow',
  'toInclusive',
  'toExclusive',
  'categoryId',
  'categorySlug',
]);

/**
 * Whether a list can find its events through event_words: a term without a WORD_SEPARATOR (it then occurs in a text
 * exactly when it occurs within one of its words), the filters event_words carries, and an order by date. Otherwise
 * the list tests search_text itself (whereClause).
 */
function searchesByWords(filter: EventFilter, ordering: Ordering): boolean {
  if (ordering !== 'date_time' && ordering !== '-date_time') return false;
  if (!filter.search || WORD_SEPARATOR.test(filter.search)) return false;
  return Object.entries(filter).every(([key, value]) => value === undefined || WORD_SEARCH_FILTERS.has(key));
}

/** The term as a word is compared: accents removed and lower-cased as search_text_words does. */
const wordTerm = (term: unknown) => sql`lower(immutable_unaccent(${term}))`;

/**
 * The words of search_words that contain the term: those whose events match it. LIKE on lower-cased words is ILIKE on
 * the text: PostgreSQL's ILIKE lower-cases both sides.
 */
const matchingWords = (bind: Bind, filter: EventFilter) =>
  sql`select word from search_words where word like ${likeContaining(wordTerm(bind('search', filter.search)))}`;

/**
 * The publication and category conditions of whereClause on `table`: event_words `ew` and event_word_months `m` both
 * carry those columns.
 */
function publicationAndCategory(filter: EventFilter, bind: Bind, table: 'ew' | 'm'): SQL[] {
  const column = (name: string) => sql.raw(`${table}.${name}`);
  const conditions: SQL[] = [];
  if (filter.activeOnly) conditions.push(column('is_active'));
  if (filter.isActive !== undefined) conditions.push(filter.isActive ? column('is_active') : sql`not ${column('is_active')}`);
  if (filter.categoryId) conditions.push(sql`${column('category_id')} = ${bind('categoryId', filter.categoryId)}`);
  if (filter.categorySlug) conditions.push(sql`${column('category_id')} = ${categoryWithSlug(bind('categorySlug', filter.categorySlug))}`);
  return conditions;
}

/** The conditions of whereClause on event_words `ew` but the search. */
function wordConditions(filter: EventFilter, bind: Bind): SQL[] {
  const conditions = publicationAndCategory(filter, bind, 'ew');
  if (filter.from) conditions.push(sql`ew.date_time >= ${bind('from', filter.from)}`);
  if (filter.toInclusive) conditions.push(sql`ew.date_time <= ${bind('toInclusive', filter.toInclusive)}`);
  if (filter.toExclusive) conditions.push(sql`ew.date_time < ${bind('toExclusive', filter.toExclusive)}`);
  return conditions;
}

/**
 * How many events one word has under the list's filters (`conditions`: the statement's wordConditions): the months of
 * event_word_months that the date range covers whole (from the first month starting after its start to the month
 * holding its end, UTC), plus the entries of event_words in the rest of the range, counted one by one. When the range
 * covers no whole month (`whole` from after `until`), the two parts of the rest meet at `whole` and nothing is counted
 * twice.
 */
function oneWordCount(filter: EventFilter, word: SQL, conditions: SQL[], bind: Bind): SQL {
  const whole = filter.from
    ? sql`((date_trunc('month', ${bind('from', filter.from)}::timestamptz at time zone 'UTC') + interval '1 month') at time zone 'UTC')`
    : sql`'-infinity'::timestamptz`;
  const end = filter.toInclusive
    ? bind('toInclusive', filter.toInclusive)
    : filter.toExclusive
      ? bind('toExclusive', filter.toExclusive)
      : undefined;
  const until = end ? sql`event_word_month(${end}::timestamptz)` : sql`'infinity'::timestamptz`;
  const entries = (range: SQL) =>
    sql`(select count(*) from event_words ew where ${sql.join([sql`ew.word = ${word}`, ...conditions, range], sql` and `)})`;
  const months = sql`(select coalesce(sum(m.events), 0) from event_word_months m
    where ${sql.join([sql`m.word = ${word}`, ...publicationAndCategory(filter, bind, 'm'), sql`m.month >= ${whole}`, sql`m.month < ${until}`], sql` and `)})`;
  return sql`${months} + ${entries(sql`ew.date_time < ${whole}`)} + ${entries(sql`ew.date_time >= greatest(${whole}, ${until})`)}`;
}

/**
 * buildListJson's statement for a search through event_words: the count from the lookup index alone (an event is
 * counted once however many of its words match), then the page's rows from events. `spaced` says the term holds a
 * WORD_SEPARATOR once its accents are removed (unaccent writes ½ as " 1/2"): the words cannot answer it.
 *
 * The page takes, from each matching word, only its first limit + offset events in the list's order (the lookup
 * index holds a word's events of a category by date, so that is a short walk), then the page of their union: an event
 * of the page is among the first limit + offset of every word it matches, since that word's events are a part of all
 * that match. Sorting every match to keep 20 cost PostgreSQL twice as much as the rest of the search (issue 18, s2).
 */
function buildWordSearch(db: Db, filter: EventFilter, ordering: Ordering, page: Page, item: ListItem) {
  const conditions = wordConditions(filter, placeholder);
  const dir = sql.raw(ordering === 'date_time' ? 'asc' : 'desc');
  // An event has each word once (event_words' key), so the events of one word need no distinct: they are counted by
  // month (oneWordCount), where the distinct count sorted every match.
  const total =
    page.knownTotal === undefined
      ? sql<number>`case when words.matching = 1
            then ${oneWordCount(filter, sql`words.first`, conditions, placeholder)}
            else (select count(distinct ew.event_id) from event_words ew
              where ${sql.join([sql`ew.word = any(words.every)`, ...conditions], sql` and `)})
          end`.mapWith(Number)
      : sql<number>`${sql.placeholder('knownTotal')}::int`.mapWith(Number);
  const firstOfEachWord = sql`select ew.event_id, ew.date_time from event_words ew
          where ${sql.join([sql`ew.word = matching.word`, ...conditions], sql` and `)}
          order by ew.date_time ${dir}, ew.event_id ${dir}
          limit ${sql.placeholder('limit')}::int + ${sql.placeholder('offset')}::int`;
  const rows = sql`select ${item === 'json' ? sql`${events.apiJson}` : versionItem(sql`${events.id}`, sql`${events}.xmin::text`)}
        from (select distinct first.event_id, first.date_time
          from unnest(words.every) as matching(word) cross join lateral (${firstOfEachWord}) as first
          order by first.date_time ${dir}, first.event_id ${dir}
          limit ${sql.placeholder('limit')} offset ${sql.placeholder('offset')}) as page
        join ${events} on ${events.id} = page.event_id
        order by page.date_time ${dir}, page.event_id ${dir}`;
  return (
    db
      .select({
        // WORD_SEPARATOR, as PostgreSQL writes it (no NUL: a text cannot hold one).
        spaced: sql<boolean>`${wordTerm(placeholder('search', filter.search))} ~ '[\\x01-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7f]'`,
        total,
        results: pageTextOf(item, rows),
      })
      // The vocabulary is looked up once, for the count and the page.
      .from(
        sql`(select count(*) as matching, min(word) as first, array_agg(word) as every
          from (${matchingWords(placeholder, filter)}) as vocabulary) as words`,
      )
  );
}

/**
 * Up to 20,000 events' JSON per worker (about 16 MB), each read again 10 minutes after it was read; and pages of them
 * up to 24 million characters (a 100-event page is 76,000, a 20-event search 15,000). A least-recently-used memo
 * smaller than the pages read in turn finds none of them: at 8 million, the bench's 500 searches (7.7 million plus
 * their keys) were assembled again every time (s2: 420 -> 250 µs of Node per request once they fit).
 */
const eventJsonByVersion = new RowVersionCache(20_000, 10 * 60_000, 24_000_000);

/** The words of event_words in each worker's memory, for the searches that go through them (search-index.ts). */
export const wordIndex = new SearchIndex();

const eventJsonsByIds = preparedPerDb((db) =>
  db
    .select({ id: events.id, version: sql<string>`${events}.xmin::text`, json: eventJsonSql })
    .from(events)
    .where(sql`${events.id} = any(${sql.placeholder('ids')}::uuid[])`)
    .prepare('event_jsons_by_ids'),
);
/** The events several pages lack, asked for at once, read by one statement; each page finds its own. */
const eventJsonsLacking = coalescedByIds((db, ids) => eventJsonsByIds(db).execute({ ids }), 'events lacking');
/** A page's events as one JSON array text, from their version list (eventJsonByVersion, reading what it lacks). */
const eventPageJson = (db: Db, versions: string) => eventJsonByVersion.resolveArray(db, versions, (ids) => eventJsonsLacking(db, ids));

/**
 * A search through the words answered from this worker's copy of them (search-index.ts), its total exact; undefined
 * when the copy cannot answer it.
 */
export async function listEventsJsonFromMemory(
  db: Db,
  filter: EventFilter,
  ordering: Ordering,
  limit: number,
  offset: number,
): Promise<PageJson | undefined> {
  if (!searchesByWords(filter, ordering)) return undefined;
  const found = await wordIndex.search(db, filter, ordering === '-date_time', limit, offset);
  const resultsJson = found && (await eventPageJson(db, found.versions));
  return found && resultsJson ? { total: found.total, resultsJson, resultsKey: found.versions } : undefined;
}

/**
 * listEvents with the page written as JSON: the total, and the events as one JSON array text in the list's order.
 * The page's statement reads only each event's id and row version; their stored JSON (events.present.ts) comes from
 * eventJsonByVersion, or is read for the versions it does not hold.
 */
export async function listEventsJson(
  db: Db,
  filter: EventFilter,
  ordering: Ordering,
  limit: number,
  offset: number,
  knownTotal?: number,
  { fromMemory = true }: { fromMemory?: boolean } = {},
): Promise<PageJson> {
  const page = { limit, offset, knownTotal };
  const fromWords = fromMemory ? await listEventsJsonFromMemory(db, filter, ordering, limit, offset) : undefined;
  if (fromWords) return fromWords;
  // A search of search_text costs its count and its plan, made for its term each time; its events are the least likely
  // to be remembered and a second statement for them made searches slower (bench s2), so it is read in one statement.
  // A search through event_words costs little and takes the same two steps as the other lists.
  if ((filter.search !== undefined || filter.location !== undefined) && !searchesByWords(filter, ordering)) {
    const whole = await runList(db, filter, ordering, page, 'json');
    return { total: whole.total, resultsJson: whole.results };
  }
  const { total, results } = await runList(db, filter, ordering, page, 'version');
  const resultsJson = await eventPageJson(db, results);
  if (resultsJson) return { total, resultsJson, resultsKey: results };
  // An event changed between the two reads: the page as one statement sees it.
  const whole = await runList(db, filter, ordering, page, 'json');
  return { total: whole.total, resultsJson: whole.results };
}

type EventJsonRow = { id: string; isActive: boolean; organizerId: string; json: string };

// The event page's one query, its JSON written by PostgreSQL; with what deciding who may see it needs. The pages asked
// for at once are read together (coalescedReads).
const eventJsonsForPages = preparedPerDb((db) =>
  db
    .select({
      id: sql<string>`${events.id}`.as('id'),
      isActive: sql<boolean>`${events.isActive}`.as('isActive'),
      organizerId: sql<string>`${events.organizerId}`.as('organizerId'),
      json: sql<string>`${eventJsonSql}`.as('json'),
    })
    .from(events)
    .where(sql`${events.id} = any(${sql.placeholder('ids')}::uuid[])`)
    .prepare('event_json_for_pages'),
);

const eventJsonForPage = coalescedReads<string, EventJsonRow | undefined>(async (db, _key, ids) => {
  // As the driver returns them: Drizzle's mapping of one row cost more than the rest of a page's read (issue 18).
  const rows = await unmappedRows<EventJsonRow>(eventJsonsForPages(db), { ids: [...new Set(ids)] });
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id));
});

export async function findEventJsonById(db: Db, id: string): Promise<Omit<EventJsonRow, 'id'> | undefined> {
  // PostgreSQL writes a uuid in lower case; the path may not.
  return eventJsonForPage(db, 'event page', id.toLowerCase());
}

export async function countByOrganizer(db: Db, organizerId: string): Promise<number> {
  const [row] = await db.select({ value: count() }).from(events).where(eq(events.organizerId, organizerId));
  return row!.value;
}
