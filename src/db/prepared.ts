import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
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

const dialect = new PgDialect();

/**
 * Runs a raw statement whose text never changes (only its parameters do) as a named prepared statement, as
 * `preparedPerDb` does for built queries: node-postgres parses and plans it once per pooled connection, PGlite
 * runs it like any other query. For statements Drizzle cannot build, such as several data-modifying CTEs.
 */
export async function executeNamed<Row>(db: Db, name: string, statement: SQL): Promise<Row[]> {
  const result = await db._.session.prepareQuery(dialect.sqlToQuery(statement), undefined, name, false).execute();
  return (result as { rows: Row[] }).rows;
}

/**
 * executeNamed for a hot statement whose values are `sql.placeholder`s: its text is built once, not per call (issue 18:
 * building the search page's statement from its template was about a tenth of a signed-in search's own Node time).
 */
export function namedStatement<Row>(name: string, statement: SQL): (db: Db, values: Record<string, unknown>) => Promise<Row[]> {
  const query = dialect.sqlToQuery(statement);
  const prepared = preparedPerDb((db) => db._.session.prepareQuery(query, undefined, name, false));
  return async (db, values) => ((await prepared(db).execute(values)) as { rows: Row[] }).rows;
}

/**
 * A prepared select's rows as the driver returns them, without Drizzle's per-row mapping: keys are the selected
 * names, values as the driver parses them (select only text, uuids and int4 to get the same on both drivers). For hot
 * pages where mapping 50 rows cost more than running the query. Both drivers' prepared queries have `all()`; Drizzle's
 * types do not show it.
 */
export function unmappedRows<Row>(statement: object, values: Record<string, unknown>): Promise<Row[]> {
  return (statement as { all(values: Record<string, unknown>): Promise<Row[]> }).all(values);
}
