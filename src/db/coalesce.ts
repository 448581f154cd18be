import { KeyedBatcher } from '../lib/keyed-batcher.js';
import type { Db } from './client.js';

/**
 * Reads of one kind sent to the database together, per database handle and key (KeyedBatcher, as group commit does
 * for orders): the reads asked for in one turn of the event loop, then those that arrive while that statement runs,
 * each group as one statement. A worker under load reads several requests per turn: one statement, one pooled
 * connection and one round trip serve them all instead of one each (issue 18). A statement is sent after every read it
 * answers was asked for, so each answer is as fresh as a read of its own; a statement already sent is never joined.
 * `load` gets a group's items and returns one value per item, in their order. If it throws, each item is read again
 * alone, so a read that fails fails only its own request.
 */
export function coalescedReads<I, R>(
  load: (db: Db, key: string, items: readonly I[]) => Promise<readonly R[]>,
  maxBatch = 200,
): (db: Db, key: string, item: I) => Promise<R> {
  const batchers = new WeakMap<Db, KeyedBatcher<I, R>>();
  return (db, key, item) => {
    let batcher = batchers.get(db);
    if (!batcher) {
      batcher = new KeyedBatcher<I, R>(async (batchKey, claim) => {
        const values = await load(db, batchKey, claim());
        return values.map((value) => ({ ok: true as const, value }));
      }, maxBatch);
      batchers.set(db, batcher);
    }
    return batcher.run(key, item);
  };
}

/**
 * Reads of rows by id asked for at once (each a list of ids), as one read of all their ids. Every ask gets all the
 * rows read, its own among them: the callers look theirs up by id.
 */
export function coalescedByIds<Row>(
  read: (db: Db, ids: string[]) => Promise<Row[]>,
  name: string,
): (db: Db, ids: string[]) => Promise<Row[]> {
  const coalesced = coalescedReads<string[], Row[]>(async (db, _key, asks) => {
    const rows = await read(db, [...new Set(asks.flat())]);
    return asks.map(() => rows);
  }, 32);
  return (db, ids) => coalesced(db, name, ids);
}

/** Asks as one array per field (placeholders of the same names), for a statement that reads them back with unnest. */
export function arraysOf<Ask extends Record<string, unknown>>(asks: readonly Ask[]): { [Field in keyof Ask]: Ask[Field][] } {
  const arrays = {} as { [Field in keyof Ask]: Ask[Field][] };
  for (const field of Object.keys(asks[0] ?? {}) as (keyof Ask)[]) arrays[field] = asks.map((ask) => ask[field]);
  return arrays;
}
