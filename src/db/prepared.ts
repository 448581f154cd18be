import type { Db } from './client.js';

/**
 * A fixed query prepared once per database handle (the pool, or a transaction): Drizzle builds its SQL once, and
 * node-postgres sends it as a named statement, which each pooled connection parses and plans only the first time.
 * PGlite runs it like any other query. `name` must be unique per query text.
 */
export function preparedPerDb<T>(build: (db: Db) => T): (db: Db) => T {
  const cache = new WeakMap<Db, T>();
  return (db) => {
    let query = cache.get(db);
    if (query === undefined) cache.set(db, (query = build(db)));
    return query;
  };
}
