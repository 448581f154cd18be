import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';

/** A timestamptz as JSON's ISO 8601 text in UTC, exactly as `Date.toISOString()` writes it (milliseconds, truncated). */
export const isoUtc = (column: SQLWrapper) => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** `[a,b,…]` from JSON texts, compact like JSON.stringify (json_agg would add a space and a newline between items). */
export const jsonArrayOf = (item: SQL, orderBy: SQL) => sql`coalesce('[' || string_agg(${item}, ',' order by ${orderBy}) || ']', '[]')`;

/** `[a,b,…]` from the JSON texts `rows` selects, in its order (an ordered and limited query: see versionListOf). */
export const jsonArrayFrom = (rows: SQL) => sql`'[' || array_to_string(array(${rows}), ',') || ']'`;

/** A FROM for a statement made only of subqueries (Drizzle's select needs one). */
export const oneRow = sql`(select 1) as one`;
