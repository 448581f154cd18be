import { sql, type SQL } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { Db } from './client.js';
import { jsonArrayFrom } from './sql-json.js';

/** A row as a list query names it: its id, and the version PostgreSQL read (`xmin::text`). */
export interface RowVersion {
  id: string;
  version: string;
}

/**
 * A page's rows as one text, `id version,id version,…` in the order of `rows`, a query (ordered and limited) selecting
 * `versionItem(id, version)` (cheaper to send and split than rows or a JSON array); parseVersionList reads it back. Ids
 * and versions never contain a space or a comma. An array of the rows keeps their order without sorting them again
 * as an ordered aggregate does: about a third of PostgreSQL's time for a page of 100 (pgbench, issue 18).
 */
export const versionListOf = (rows: SQL) => sql<string>`array_to_string(array(${rows}), ',')`;
export const versionItem = (id: SQL, version: SQL) => sql`${id}::text || ' ' || ${version}`;

/**
 * The page `rows` selects as one text: its rows' JSON texts as a JSON array (`json`, rows selecting JSON text), or
 * its version list (`version`, rows selecting versionItem).
 */
export const pageTextOf = (item: 'json' | 'version', rows: SQL) =>
  sql<string>`${item === 'json' ? jsonArrayFrom(rows) : versionListOf(rows)}`;

export function parseVersionList(text: string): RowVersion[] {
  if (text === '') return [];
  return text.split(',').map((item) => {
    const space = item.indexOf(' ');
    return { id: item.slice(0, space), version: item.slice(space + 1) };
  });
}

/**
 * A page as the lists answer it: the total, the rows as one JSON array text and, when the page was read as versions,
 * its version list (`resultsKey`), which names exactly those rows and is short (pagination.ts keeps bodies by it).
 */
export interface PageJson {
  total: number;
  resultsJson: string;
  resultsKey?: string;
}

/**
 * Rows' JSON remembered by row version, per database handle. PostgreSQL writes a new version of a row on every UPDATE,
 * stamped with the writing transaction's id (the system column `xmin`), so the JSON remembered for (id, xmin) is the
 * JSON of exactly that version. A list query can then read only ids and versions in its one snapshot and take the
 * JSON from here: never stale, unlike a cache with a lifetime, and not subject to PUBLIC_CACHE_SECONDS.
 *
 * Why: for a page of 100 events, PostgreSQL spent more time copying and sending 76 KB of stored JSON than finding the
 * rows (pgbench: 6,000 pages/s against 24,700/s for ids and versions only; issue 18).
 *
 * The lifetime only bounds memory and makes a transaction-id wraparound (2^32 transactions) unable to revive an old
 * version; `max` bounds the entries per handle.
 */
export class RowVersionCache {
  /** Per handle: each row's last JSON read, with its version and when it was read (`at`, ms). */
  private readonly perDb = new WeakMap<Db, LRUCache<string, { version: string; json: string; at: number }>>();
  /** Per handle: recent pages' JSON array texts by their version list text, and when each was assembled. */
  private readonly pagesPerDb = new WeakMap<Db, LRUCache<string, { json: string; at: number }>>();

  /** `pageChars` bounds the pages kept per handle (resolveArray), in characters of their texts and keys. */
  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
    private readonly pageChars = 4_000_000,
  ) {}

  /**
   * resolve for a page given as its version list text (versionListOf), answered as one JSON array text. A page whose
   * exact list of ids and versions was answered within the lifetime gets the same text again: nothing to split, look
   * up or join. The list names every row's version, so a page it finds is exactly the rows' current JSON. For the
   * bench's signed-in 100-event list, splitting, looking up and joining 100 items per request, and collecting the
   * 76 KB of garbage each left, was a good part of the route's own CPU (issue 18).
   */
  async resolveArray(
    db: Db,
    list: string,
    fetch: (ids: string[]) => Promise<Array<RowVersion & { json: string }>>,
  ): Promise<string | undefined> {
    let pages = this.pagesPerDb.get(db);
    if (!pages) {
      pages = new LRUCache({ maxSize: this.pageChars, sizeCalculation: (page, key) => page.json.length + key.length });
      this.pagesPerDb.set(db, pages);
    }
    const now = Date.now();
    const known = pages.get(list);
    if (known && now - known.at < this.ttlMs) return known.json;
    const jsons = await this.resolve(db, parseVersionList(list), fetch);
    if (!jsons) return undefined;
    const json = `[${jsons.join(',')}]`;
    if (json.length + list.length <= this.pageChars) pages.set(list, { json, at: now });
    return json;
  }

  /**
   * The JSON of each listed row version, in the list's order. The versions not remembered are read with `fetch` (one
   * call for all of them); if a row changed or vanished in between, `undefined`: the caller reads its page again in one
   * statement rather than mix two snapshots.
   */
  async resolve(
    db: Db,
    rows: readonly RowVersion[],
    fetch: (ids: string[]) => Promise<Array<RowVersion & { json: string }>>,
  ): Promise<string[] | undefined> {
    let cache = this.perDb.get(db);
    if (!cache) this.perDb.set(db, (cache = new LRUCache({ max: this.max })));
    // The lifetime is checked here, against one clock reading per page: lru-cache's own TTL reads the clock on every
    // get, a tenth of a 50-item page's CPU (issue 18). As with its TTL, a hit does not extend the lifetime.
    const now = Date.now();
    const jsons: Array<string | undefined> = rows.map(({ id, version }) => {
      const known = cache.get(id);
      return known?.version === version && now - known.at < this.ttlMs ? known.json : undefined;
    });
    const missing = rows.filter((_, i) => jsons[i] === undefined);
    if (missing.length === 0) return jsons as string[];
    const fetched = new Map((await fetch(missing.map((row) => row.id))).map((row) => [row.id, row]));
    for (const [i, { id, version }] of rows.entries()) {
      if (jsons[i] !== undefined) continue;
      const row = fetched.get(id);
      if (!row) return undefined;
      cache.set(id, { version: row.version, json: row.json, at: now });
      if (row.version !== version) return undefined;
      jsons[i] = row.json;
    }
    return jsons as string[];
  }
}
