import { sql } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { Db } from '../../db/client.js';
import { executeNamed } from '../../db/prepared.js';
import { versionItem, versionListOf } from '../../db/row-version-cache.js';
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
 * snapshot; if it moved, the answer is thrown away (undefined: the caller searches in PostgreSQL) and so is this copy,
 * which is then read again word by word as searches need it. Seat changes do not move the number, so a ticket drop
 * does not empty it; the page's row versions carry the seats (RowVersionCache).
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

/** The in-flight key of the vocabulary's read (no word holds a line break). */
const VOCABULARY = '\n';
/** A term this copy can answer: letters and digits of ASCII. */
const ASCII_WORD = /^[A-Za-z0-9]+$/;

const epochSql = sql`(select epoch from search_epoch)::text`;
/** A text[] literal of words (which hold no quote, backslash, comma or space: they are split at every ASCII sign). */
const textArray = (items: string[]) => `{${items.map((item) => `"${item}"`).join(',')}}`;

export class SearchIndex {
  private readonly copies = new WeakMap<Db, Copy>();
  private readonly loading = new WeakMap<Db, Map<string, Promise<void>>>();
  /** Searches answered here, and those handed back to PostgreSQL after a look (tests and the bench read them). */
  readonly counts = { answered: 0, declined: 0 };

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
  async search(db: Db, filter: EventFilter, descending: boolean, limit: number, offset: number): Promise<IndexedPage | undefined> {
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
    const found = this.find(copy, filter, wordLists as WordLists[], descending, limit, offset);
    if (!found) return this.decline();
    const { total, page } = found;

    const ids = `{${page.map((index) => copy.ids[index]).join(',')}}`;
    const [row] = await executeNamed<{ epoch: string; versions: string }>(
      db,
      'search_index_page',
      sql`select ${epochSql} as epoch, ${versionListOf(
        sql`select ${versionItem(sql`e.id`, sql`e.xmin::text`)} from unnest(${ids}::uuid[]) with ordinality as page(id, n)
            join events e on e.id = page.id order by page.n`,
      )} as versions`,
    );
    if (Number(row!.epoch) !== copy.epoch) {
      this.adopt(db, Number(row!.epoch));
      return this.decline();
    }
    this.counts.answered++;
    return { total, versions: row!.versions };
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

  /** The copy for `epoch`: this one if it was read at that number, else a new empty one (never an older one). */
  private adopt(db: Db, epoch: number): Copy | undefined {
    const copy = this.copies.get(db);
    if (copy && copy.epoch === epoch) return copy;
    if (copy && copy.epoch > epoch) return undefined;
    const fresh: Copy = {
      epoch,
      words: new LRUCache<string, WordLists>({ maxSize: this.limits.entries, sizeCalculation: (lists) => lists.entries + 1 }),
      ids: [],
      idIndex: new Map(),
      seen: new Uint32Array(0),
      stamp: 0,
    };
    this.copies.set(db, fresh);
    return fresh;
  }

  private async readVocabulary(db: Db): Promise<void> {
    const [row] = await executeNamed<{ epoch: string; words: string | null; categories: string | null }>(
      db,
      'search_index_vocabulary',
      sql`select ${epochSql} as epoch, (select string_agg(word, E'\n') from search_words) as words,
            (select json_object_agg(slug, id)::text from categories) as categories`,
    );
    const copy = this.adopt(db, Number(row!.epoch));
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
    const copy = this.adopt(db, Number(row!.epoch));
    if (!copy) return;
    const read = new Map<string, WordLists>(words.map((word) => [word, { lists: [], entries: 0 }]));
    for (const line of row!.lists ? row!.lists.split('\n') : []) {
      const [word, category, active, entries] = line.split('|') as [string, string, string, string];
      const items = entries.split(',');
      const list: PostingList = { at: new Float64Array(items.length), event: new Int32Array(items.length) };
      for (const [i, item] of items.entries()) {
        const space = item.indexOf(' ');
        list.at[i] = Number(item.slice(0, space));
        list.event[i] = internId(copy, item.slice(space + 1));
      }
      const lists = read.get(word)!;
      lists.lists.push({ categoryId: category === '' ? null : category, active: active === '1', list });
      lists.entries += items.length;
    }
    for (const [word, lists] of read) copy.words.set(word, lists);
  }
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
