import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';

/**
 * The system page's totals in one statement. It reads several modules' tables, as lib/integrity.ts does: a
 * read-only overview owned by no single feature.
 */
export async function countRows(
  db: Db,
): Promise<{ users: number; events: number; registrations: number; tickets: number; feedbacks: number }> {
  const result = await db.execute<Record<string, unknown>>(
    sql`SELECT (SELECT COUNT(*) FROM users) AS users, (SELECT COUNT(*) FROM events) AS events,
               (SELECT COUNT(*) FROM registrations) AS registrations, (SELECT COUNT(*) FROM tickets) AS tickets,
               (SELECT COUNT(*) FROM feedbacks) AS feedbacks`,
  );
  const row = (result as { rows: Record<string, unknown>[] }).rows[0]!;
  return {
    users: Number(row.users),
    events: Number(row.events),
    registrations: Number(row.registrations),
    tickets: Number(row.tickets),
    feedbacks: Number(row.feedbacks),
  };
}
