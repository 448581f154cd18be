import { sql } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { Db } from '../../db/client.js';
import { coalescedReads } from '../../db/coalesce.js';
import { executeNamed, namedStatement } from '../../db/prepared.js';
import { versionItem } from '../../db/row-version-cache.js';
import type { EventFilter } from './events.repository.js';

/**
 * A worker's copy of event_words in memory, for the searches that go through the words (searchesByWords in
 * events.repository.ts): which words contain the term, how many events they have under the list's filters, and which
 * events make the page. PostgreSQL then only reads the page's row versions, by id, in one short statement.
 *
 * Why: the search statement cost PostgreSQL 280-590 µs per request (vocabulary, counts, the page's walk; executor
 * start-up for a dozen sub-plans), five to ten times a page read by ids, and kept signed-in search near a quarter
 * of B1 (issue 18, s2u). The same work in memory takes a few microseconds.
 *
 * Never stale: everything here was read together with search_epoch's number (migration 0017), which moves on in every
 * transaction that changes what such a search finds. The page's statement reads the number again in its own
 * snapshot; if it moved, the answer is thrown away, the copy catches up (below) and the search runs once more, or
 * goes to PostgreSQL. Seat changes do not move the number, so a ticket drop leaves the copy alone; the page's row
 * versions carry the seats (RowVersionCache).
 *
 * Catching up: each move of the number logs the event it was for (search_changes, migration 0018). The copy reads the
 * log past its number and the current words of those events, drops their old entries from the words it holds and
 * adds the new ones: a few milliseconds, where reading every word again took seconds per worker after each edit. A
 * change to categories, or a log that no longer reaches back to the copy's number, empties the copy instead; it is
 * then read again word by word as searches need it.
 *
 * Only terms of ASCII letters and digits are answered here: lower-casing them in JavaScript is exactly PostgreSQL's
 * lower(unaccent(…)) of them. Other terms (accents, ½, punctuation) go to PostgreSQL.
 */

/** One word's events of one category and publication, in date order (then id, as PostgreSQL orders uuids). */
interface PostingList {
  /**
   * date_time in seconds since 1970 as PostgreSQL's date_part gives it (a double: microseconds apart until 2106, two
   * at most later; a request's instants are divided the same way, getTime() / 1000, to the same double).
   */
  at: Float64Array;
  /** Index into the copy's `ids`. */
  event: Int32Array;
}

interface WordLists {
  /** One list per category (null: none) and publication. */
  lists: Array<{ categoryId: string | null; active: boolean; list: PostingList }>;
  entries: number;
}

interface Vocabulary {
  /** Every word, each followed by '\n' and the first preceded by one: a term's occurrences are found by indexOf. */
  text: string;
  /** Where each word starts in `text`, ascending. */
  starts: Int32Array;
  words: string[];
  categoryIdBySlug: Map<string, string>;
  /** The words as a set, made when a catch-up first adds words. */
  known?: Set<string>;
}

interface Copy {
  epoch: number;
  vocabulary?: Vocabulary;
  words: LRUCache<string, WordLists>;
  /** Event ids, each held once (a uuid string per entry would be most of the memory). */
  ids: string[];
  idIndex: Map<string, number>;
  /** Scratch for counting distinct events of several words (a stamp per event index). */
  seen: Uint32Array;
  stamp: number;
}

export interface IndexedPage {
  total: number;
  /** The page's `id version` list, as versionListOf writes it, for RowVersionCache.resolveArray. */
  versions: string;
}

/** The in-flight keys of the vocabulary's read and of a catch-up (no word holds a control character). */
const VOCABULARY = '\n';
const CATCH_UP = '\r';
/** A term this copy can answer: letters and digits of ASCII. */
const ASCII_WORD = /^[A-Za-z0-9]+$/;

const epochSql = sql`(select epoch from search_epoch)::text`;
/** A text[] literal of words (which hold no quote, backslash, comma or space: they are split at every ASCII sign). */
const textArray = (items: string[]) => `{${items.map((item) => `"${item}"`).join(',')}}`;

/** The epoch, and the version items (row-version-cache.ts) of the events `ids` names, in no order. */
const searchIndexVersions = namedStatement<{ epoch: string; versions: string | null }>(
  'search_index_versions',
  sql`select ${epochSql} as epoch, (select string_agg(${versionItem(sql`e.id`, sql`e.xmin::text`)}, ',')
        from events e where e.id = any(${sql.placeholder('ids')}::uuid[])) as versions`,
);

/**
 * The epoch, and each page's version list (its events that still exist, in its order). The pages several searches
 * ask for at once are read by one statement (coalescedReads), all as of one epoch.
 */
const searchPages = coalescedReads<string[], { epoch: string; versions: string }>(async (db, _key, pages) => {
  const [row] = await searchIndexVersions(db, { ids: `{${[...new Set(pages.flat())].join(',')}}` });
  const itemOf = new Map<string, string>();
  for (const item of row!.versions?.split(',') ?? []) itemOf.set(item.slice(0, item.indexOf(' ')), item);
  return pages.map((ids) => ({
    epoch: row!.epoch,
    versions: ids.flatMap((id) => itemOf.get(id) ?? []).join(','),
  }));
}, 64);

/**
 * The number now, the changes logged past `since` (how many, and how many named no event), the events they name, and
 * those events' entries as readWords writes them (`word|category|active|seconds id`, one per line).
 */
const searchChangesSince = namedStatement<{ epoch: string; logged: number; resets: number; events: string | null; entries: string | null }>(
  'search_index_changes',
  sql`with changes as (select event_id from search_changes where epoch > ${sql.placeholder('since')}::bigint)
      select ${epochSql} as epoch, (select count(*) from changes)::int as logged,
        (select count(*) from changes where event_id is null)::int as resets,
        (select string_agg(distinct event_id::text, ',') from changes) as events,
        (select string_agg(ew.word || '|' || coalesce(ew.category_id::text, '') || '|' || ew.is_active::int || '|' ||
            date_part('epoch', ew.date_time)::text || ' ' || ew.event_id::text, E'\n')
          from event_words ew where ew.event_id in (select event_id from changes)) as entries`,
);

export class SearchIndex {
  private readonly copies = new WeakMap<Db, Copy>();
  private readonly loading = new WeakMap<Db, Map<string, Promise<void>>>();
  /** Searches answered here, and those handed back to PostgreSQL after a look (tests and the bench read them). */
  readonly counts = { answered: 0, declined: 0, patched: 0, emptied: 0 };

  /**
   * - `entries`: the word entries held per database handle (about 12 bytes each, plus each event id once);
   * - `words`: a term held by more words (a letter or two, on a large vocabulary) goes to PostgreSQL: reading their
   *   lists would hold most of event_words at once, and merging them would keep this worker's event loop from every
   *   other request, where PostgreSQL works on it in a process of its own;
   * - `counted`: likewise a term of several words whose count would walk more entries (one word's count is free).
   */
  constructor(readonly limits = { entries: 4_000_000, words: 32, counted: 50_000 }) {}

  /**
   * The search's total and page as PostgreSQL's search through event_words would give them now, or undefined when
   * this copy cannot say (a term it does not take, or the words changed meanwhile).
   */
  async search(
    db: Db,
    filter: EventFilter,
    descending: boolean,
    limit: number,
    offset: number,
    mayCatchUp = true,
  ): Promise<IndexedPage | undefined> {
    const term = filter.search;
    if (term === undefined || !ASCII_WORD.test(term)) return undefined;
    let copy = this.copies.get(db);
    if (!copy?.vocabulary) {
      await this.readOnce(db, [VOCABULARY], () => this.readVocabulary(db));
      copy = this.copies.get(db);
      if (!copy?.vocabulary) return undefined;
    }
    const words = matchingWords(copy.vocabulary, term.toLowerCase());
    if (words.length > this.limits.words) return this.decline();
    const missing = words.filter((word) => !copy.words.has(word));
    if (missing.length > 0) {
      await this.readOnce(db, missing, (toRead) => this.readWords(db, toRead));
      if (this.copies.get(db) !== copy) return undefined;
    }
    const wordLists = words.map((word) => copy.words.get(word));
    // Evicted meanwhile (more entries than limits.entries): PostgreSQL answers.
    if (wordLists.some((lists) => lists === undefined)) return undefined;
    // A catch-up may patch the copy while the page's statement runs: the answer stands only for the number it had.
    const readAt = copy.epoch;
    const found = this.find(copy, filter, wordLists as WordLists[], descending, limit, offset);
    if (!found) return this.decline();
    const { total, page } = found;

    const row = await searchPages(
      db,
      'search pages',
      page.map((index) => copy.ids[index]!),
    );
    if (Number(row.epoch) !== readAt) {
      if (mayCatchUp && Number(row.epoch) > readAt && (await this.copyAt(db, Number(row.epoch)))) {
        return this.search(db, filter, descending, limit, offset, false);
      }
      return this.decline();
    }
    this.counts.answered++;
    return { total, versions: row.versions };
  }

  private decline(): undefined {
    this.counts.declined++;
    return undefined;
  }

  /** The total and the page's event indexes; undefined if counting them would walk more than `limits.counted`. */
  private find(copy: Copy, filter: EventFilter, words: WordLists[], descending: boolean, limit: number, offset: number) {
    const categoryId =
      filter.categoryId?.toLowerCase() ??
      (filter.categorySlug === undefined ? undefined : copy.vocabulary!.categoryIdBySlug.get(filter.categorySlug));
    const ranges: Array<{ list: PostingList; lo: number; hi: number }> = [];
    if (filter.categorySlug === undefined || categoryId !== undefined) {
      const active = filter.activeOnly ? true : filter.isActive;
      const from = filter.from ? filter.from.getTime() / 1000 : -Infinity;
      for (const { lists } of words) {
        for (const { categoryId: listCategoryId, active: listActive, list } of lists) {
          if (categoryId !== undefined && listCategoryId !== categoryId) continue;
          if (active !== undefined && listActive !== active) continue;
          const lo = firstAtOrAfter(list.at, from);
          const hi = filter.toInclusive
            ? firstAfter(list.at, filter.toInclusive.getTime() / 1000)
            : filter.toExclusive
              ? firstAtOrAfter(list.at, filter.toExclusive.getTime() / 1000)
              : list.at.length;
          if (hi > lo) ranges.push({ list, lo, hi });
        }
      }
    }
    // One word: an event is in one of its lists at most once. Several: count each event once.
    let total = 0;
    if (words.length === 1) {
      for (const { lo, hi } of ranges) total += hi - lo;
    } else {
      if (ranges.reduce((sum, { lo, hi }) => sum + hi - lo, 0) > this.limits.counted) return undefined;
      const stamp = this.nextStamp(copy);
      for (const { list, lo, hi } of ranges) {
        for (let i = lo; i < hi; i++) {
          const event = list.event[i]!;
          if (copy.seen[event] !== stamp) {
            copy.seen[event] = stamp;
            total++;
          }
        }
      }
    }
    return { total, page: mergePage(copy.ids, ranges, descending, limit, offset) };
  }

  private nextStamp(copy: Copy): number {
    if (copy.seen.length < copy.ids.length) copy.seen = new Uint32Array(Math.max(copy.ids.length, copy.seen.length * 2));
    if (copy.stamp === 0xffffffff) {
      copy.seen.fill(0);
      copy.stamp = 0;
    }
    return ++copy.stamp;
  }

  /**
   * The copy as it stands at `epoch`, for what was just read at that number: the copy itself if it stands there, a new
   * empty one if there is none yet, or the copy caught up to it if it stands behind; undefined if it stands past it
   * (the read is older than the copy: thrown away).
   */
  private async copyAt(db: Db, epoch: number): Promise<Copy | undefined> {
    let copy = this.copies.get(db);
    if (!copy) this.copies.set(db, (copy = this.emptyCopy(epoch)));
    if (copy.epoch < epoch) {
      await this.readOnce(db, [CATCH_UP], () => this.catchUp(db));
      copy = this.copies.get(db)!;
    }
    return copy.epoch === epoch ? copy : undefined;
  }

  private emptyCopy(epoch: number): Copy {
    return {
      epoch,
      words: new LRUCache<string, WordLists>({ maxSize: this.limits.entries, sizeCalculation: (lists) => lists.entries + 1 }),
      ids: [],
      idIndex: new Map(),
      seen: new Uint32Array(0),
      stamp: 0,
    };
  }

  /** Brings the copy to the number now: patched from the log of changes, or emptied when the log cannot say. */
  private async catchUp(db: Db): Promise<void> {
    const copy = this.copies.get(db);
    if (!copy) return;
    const [row] = await searchChangesSince(db, { since: copy.epoch });
    const epoch = Number(row!.epoch);
    if (this.copies.get(db) !== copy || epoch <= copy.epoch) return;
    if (row!.logged !== epoch - copy.epoch || row!.resets > 0) {
      this.counts.emptied++;
      this.copies.set(db, this.emptyCopy(epoch));
      return;
    }
    patch(copy, row!.events ? row!.events.split(',') : [], row!.entries ? row!.entries.split('\n') : []);
    copy.epoch = epoch;
    this.counts.patched++;
  }

  private async readVocabulary(db: Db): Promise<void> {
    const [row] = await executeNamed<{ epoch: string; words: string | null; categories: string | null }>(
      db,
      'search_index_vocabulary',
      sql`select ${epochSql} as epoch, (select string_agg(word, E'\n') from search_words) as words,
            (select json_object_agg(slug, id)::text from categories) as categories`,
    );
    const copy = await this.copyAt(db, Number(row!.epoch));
    if (!copy || copy.vocabulary) return;
    const words = row!.words ? row!.words.split('\n') : [];
    const starts = new Int32Array(words.length);
    let at = 1;
    for (const [i, word] of words.entries()) {
      starts[i] = at;
      at += word.length + 1;
    }
    const categories = JSON.parse(row!.categories ?? '{}') as Record<string, string>;
    copy.vocabulary = { text: `\n${words.join('\n')}\n`, starts, words, categoryIdBySlug: new Map(Object.entries(categories)) };
  }

  /**
   * Reads what `keys` name (words, or VOCABULARY) with `read`, one call for all of them; a key already being read by
   * another request is awaited, not read twice (a cold worker meets many searches at once).
   */
  private async readOnce(db: Db, keys: string[], read: (toRead: string[]) => Promise<void>): Promise<void> {
    let loading = this.loading.get(db);
    if (!loading) this.loading.set(db, (loading = new Map<string, Promise<void>>()));
    const waiting = keys.map((key) => loading.get(key)).filter((pending) => pending !== undefined);
    const toRead = keys.filter((key) => !loading.has(key));
    if (toRead.length > 0) {
      const reading = read(toRead);
      for (const key of toRead) loading.set(key, reading);
      void reading.finally(() => {
        for (const key of toRead) if (loading.get(key) === reading) loading.delete(key);
      });
      waiting.push(reading);
    }
    await Promise.all(waiting);
  }

  private async readWords(db: Db, words: string[]): Promise<void> {
    const [row] = await executeNamed<{ epoch: string; lists: string | null }>(
      db,
      'search_index_words',
      sql`select ${epochSql} as epoch, (select string_agg(list, E'\n') from (
            select ew.word || '|' || coalesce(ew.category_id::text, '') || '|' || ew.is_active::int || '|' ||
              string_agg(date_part('epoch', ew.date_time)::text || ' ' || ew.event_id::text, ','
                order by ew.date_time, ew.event_id) as list
            from event_words ew where ew.word = any(${textArray(words)}::text[])
            group by ew.word, ew.category_id, ew.is_active) as lists) as lists`,
    );
    const copy = await this.copyAt(db, Number(row!.epoch));
    if (!copy) return;
    const read = new Map<string, WordLists>(words.map((word) => [word, { lists: [], entries: 0 }]));
    for (const line of row!.lists ? row!.lists.split('\n') : []) {
      const [word, category, active, entries] = line.split('|') as [string, string, string, string];
      const items = entries.split(',');
      const list: PostingList = { at: new Float64Array(items.length), event: new Int32Array(items.length) };
      for (const [i, item] of items.entries()) {
        const entry = parseEntry(copy, item);
        list.at[i] = entry.at;
        list.event[i] = entry.event;
      }
      const lists = read.get(word)!;
      lists.lists.push({ categoryId: category === '' ? null : category, active: active === '1', list });
      lists.entries += items.length;
    }
    for (const [word, lists] of read) copy.words.set(word, lists);
  }
}

/** An entry `seconds id` as readWords and searchChangesSince write it. */
function parseEntry(copy: Copy, item: string): { at: number; event: number } {
  const space = item.indexOf(' ');
  return { at: Number(item.slice(0, space)), event: internId(copy, item.slice(space + 1)) };
}

/**
 * Applies logged changes: every entry of the `changed` events leaves the lists of the words held, and their current
 * `entries` (lines `word|category|active|seconds id`) join those lists, in order; their new words join the vocabulary.
 */
function patch(copy: Copy, changed: string[], entries: string[]): void {
  const gone = new Uint8Array(copy.ids.length + changed.length);
  for (const id of changed) gone[internId(copy, id)] = 1;
  const vocabulary = copy.vocabulary;
  const newWords: string[] = [];
  type Added = Map<string, { categoryId: string | null; active: boolean; entries: Array<{ at: number; event: number }> }>;
  /** Per word held, its new entries per `category|active`. */
  const added = new Map<string, Added>();
  for (const line of entries) {
    const [word, category, active, item] = line.split('|') as [string, string, string, string];
    if (vocabulary) {
      vocabulary.known ??= new Set(vocabulary.words);
      if (!vocabulary.known.has(word)) {
        vocabulary.known.add(word);
        newWords.push(word);
      }
    }
    if (!copy.words.peek(word)) continue;
    let lists = added.get(word);
    if (!lists) added.set(word, (lists = new Map() as Added));
    const key = `${category}|${active}`;
    let list = lists.get(key);
    if (!list) lists.set(key, (list = { categoryId: category === '' ? null : category, active: active === '1', entries: [] }));
    list.entries.push(parseEntry(copy, item));
  }
  const resized: Array<[string, WordLists]> = [];
  for (const [word, held] of copy.words.entries()) {
    const adding = added.get(word);
    const lists: WordLists['lists'] = [];
    for (const { categoryId, active, list } of held.lists) {
      const key = `${categoryId ?? ''}|${active ? '1' : '0'}`;
      const more = adding?.get(key);
      adding?.delete(key);
      const merged = more || holdsAny(list, gone) ? mergeList(copy.ids, list, gone, more?.entries ?? []) : list;
      if (merged.at.length > 0) lists.push({ categoryId, active, list: merged });
    }
    for (const { categoryId, active, entries: more } of adding?.values() ?? []) {
      lists.push({ categoryId, active, list: mergeList(copy.ids, { at: new Float64Array(0), event: new Int32Array(0) }, gone, more) });
    }
    held.lists = lists;
    const entries = lists.reduce((sum, { list }) => sum + list.at.length, 0);
    if (entries !== held.entries) resized.push([word, held]);
    held.entries = entries;
  }
  // Set again so that limits.entries counts their new sizes (not while iterating the cache).
  for (const [word, held] of resized) copy.words.set(word, held);
  if (vocabulary && newWords.length > 0) {
    const starts = new Int32Array(vocabulary.starts.length + newWords.length);
    starts.set(vocabulary.starts);
    let at = vocabulary.text.length;
    for (const [i, word] of newWords.entries()) {
      starts[vocabulary.starts.length + i] = at;
      at += word.length + 1;
    }
    vocabulary.text += `${newWords.join('\n')}\n`;
    vocabulary.starts = starts;
    vocabulary.words.push(...newWords);
  }
}

function holdsAny(list: PostingList, events: Uint8Array): boolean {
  // A plain loop: Int32Array.prototype.some's callback per entry made a catch-up of the bench's copy 20 times slower.
  for (let i = 0; i < list.event.length; i++) if (events[list.event[i]!] === 1) return true;
  return false;
}

/** `list` without the `gone` events' entries, with `more` merged in, in (date, id) order. */
function mergeList(ids: string[], list: PostingList, gone: Uint8Array, more: Array<{ at: number; event: number }>): PostingList {
  more.sort((a, b) => a.at - b.at || compareText(ids[a.event]!, ids[b.event]!));
  const length = list.at.length + more.length;
  const at = new Float64Array(length);
  const event = new Int32Array(length);
  let kept = 0;
  let next = 0;
  for (let i = 0; i <= list.at.length; i++) {
    while (
      next < more.length &&
      (i === list.at.length || (more[next]!.at - list.at[i]! || compareText(ids[more[next]!.event]!, ids[list.event[i]!]!)) < 0)
    ) {
      at[kept] = more[next]!.at;
      event[kept++] = more[next++]!.event;
    }
    if (i < list.at.length && gone[list.event[i]!] !== 1) {
      at[kept] = list.at[i]!;
      event[kept++] = list.event[i]!;
    }
  }
  return { at: at.slice(0, kept), event: event.slice(0, kept) };
}

function internId(copy: Copy, id: string): number {
  let index = copy.idIndex.get(id);
  if (index === undefined) {
    index = copy.ids.push(id) - 1;
    copy.idIndex.set(id, index);
  }
  return index;
}

/** The words of the vocabulary that contain `term` (lower case), each once. */
function matchingWords(vocabulary: Vocabulary, term: string): string[] {
  const found: string[] = [];
  let last = -1;
  for (let at = vocabulary.text.indexOf(term); at !== -1; at = vocabulary.text.indexOf(term, at + 1)) {
    // The word holding this occurrence: the last one starting at or before it (a term has no '\n', so it never spans two).
    const word = firstAfter(vocabulary.starts, at) - 1;
    if (word !== last) found.push(vocabulary.words[word]!);
    last = word;
  }
  return found;
}

/** The first index whose value is >= x (values ascending). */
const firstAtOrAfter = (values: ArrayLike<number>, x: number) => firstIndexPast(values, x, false);
/** The first index whose value is > x (values ascending). */
const firstAfter = (values: ArrayLike<number>, x: number) => firstIndexPast(values, x, true);

/** Binary search: the first index whose value is past x (above it with `andEqual`, else at or above it). */
function firstIndexPast(values: ArrayLike<number>, x: number, andEqual: boolean): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const value = values[mid]!;
    if (value < x || (andEqual && value === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The page of the ranges' events in (date, id) order, or its reverse, an event found by several words once: a merge
 * of the sorted ranges, where the same event from two words comes out twice in a row.
 */
function mergePage(
  ids: string[],
  ranges: Array<{ list: PostingList; lo: number; hi: number }>,
  descending: boolean,
  limit: number,
  offset: number,
): number[] {
  const heads = ranges.map(({ lo, hi }) => (descending ? hi - 1 : lo));
  const page: number[] = [];
  const sign = descending ? -1 : 1;
  let skipped = 0;
  let previous = -1;
  for (;;) {
    let best = -1;
    for (let r = 0; r < ranges.length; r++) {
      const { list, lo, hi } = ranges[r]!;
      const head = heads[r]!;
      if (head < lo || head >= hi) continue;
      if (best === -1) {
        best = r;
        continue;
      }
      const other = ranges[best]!.list;
      const otherHead = heads[best]!;
      const byDate = list.at[head]! - other.at[otherHead]!;
      const order = byDate !== 0 ? byDate : compareText(ids[list.event[head]!]!, ids[other.event[otherHead]!]!);
      if (order * sign < 0) best = r;
    }
    if (best === -1) break;
    const event = ranges[best]!.list.event[heads[best]!]!;
    heads[best] = heads[best]! + (descending ? -1 : 1);
    if (event === previous) continue;
    previous = event;
    if (skipped < offset) skipped++;
    else page.push(event);
    if (page.length === limit) break;
  }
  return page;
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
