import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './client.js';
import { executeNamed } from './prepared.js';

/**
 * A write that can travel in one statement together with others: each module builds its own (its SQL stays in its
 * repository), and `writeInOneStatement` sends several as one round trip. That matters where a transaction holds a
 * hot lock: a batch of registrations holds its event's row lock from the lock to the commit, so the orders, their
 * tickets, the counters, the notifications and their mails are written in one statement, not four.
 *
 * A part is a list of common table expressions (data-modifying ones run whether or not anything reads them; a
 * plain SELECT runs only if read, so `answer` must read it) and `answer`, one scalar SQL expression over them,
 * read back as text by `read`. PostgreSQL allows data-modifying CTEs only at the top level of a statement, which is
 * why a part is CTEs and not a statement. Parts cannot see each other's writes (one snapshot), and CTE names must
 * differ between the parts of one statement.
 */
export interface WritePart<T> {
  /** Names the prepared statement: the same keys in the same order must always give the same SQL text. */
  key: string;
  ctes: Array<[name: string, body: SQL]>;
  answer: SQL;
  read: (text: string) => T;
}

type Answers<P extends readonly WritePart<unknown>[]> = { [K in keyof P]: P[K] extends WritePart<infer T> ? T : never };

/** Runs the parts as one statement (one round trip, prepared once per connection) and returns each part's answer. */
export async function writeInOneStatement<const P extends readonly WritePart<unknown>[]>(db: Db, parts: P): Promise<Answers<P>> {
  const names = parts.flatMap((part) => part.ctes.map(([name]) => name));
  if (new Set(names).size !== names.length) throw new Error(`writeInOneStatement: CTE names collide (${names.join(', ')})`);
  const ctes = sql.join(
    parts.flatMap((part) => part.ctes.map(([name, body]) => sql`${sql.identifier(name)} as (${body})`)),
    sql`, `,
  );
  const answers = sql.join(
    parts.map((part, index) => sql`(${part.answer})::text as ${sql.identifier(`answer_${index}`)}`),
    sql`, `,
  );
  const [row] = await executeNamed<Record<string, string>>(
    db,
    `one_statement:${parts.map((part) => part.key).join('+')}`,
    sql`with ${ctes} select ${answers}`,
  );
  return parts.map((part, index) => part.read(row![`answer_${index}`]!)) as Answers<P>;
}
