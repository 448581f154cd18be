import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.js';

/** One broken invariant on one row, in words an operator can act on. */
export interface IntegrityProblem {
  check: string;
  detail: string;
}

export interface IntegrityReport {
  problems: IntegrityProblem[];
  counts: { events: number; registrations: number; tickets: number; feedbacks: number };
}

/** At most this many rows are reported per check, so a badly broken database still prints a readable list. */
const ROWS_PER_CHECK = 50;

/** A row of one check's query: ids, counts and numbers (pg returns bigint counts as strings). */
type Row = Record<string, string | number | null>;

interface Check {
  name: string;
  /** Selects one row per violation; `detail` is composed from its columns. */
  query: SQL;
  detail: (row: Row) => string;
}

/**
 * The seat and rating invariants the services promise. Cancelled orders may keep the tickets they held (so a
 * scan at the door can say "cancelled" instead of "unknown"), so they are allowed none or a whole set.
 */
const checks: Check[] = [
  {
    name: 'registered_count',
    query: sql`
      SELECT e.id, e.registered_count AS stored, COALESCE(SUM(r.quantity) FILTER (WHERE r.status = 'registered'), 0) AS actual
      FROM events e LEFT JOIN registrations r ON r.event_id = e.id
      GROUP BY e.id
      HAVING e.registered_count <> COALESCE(SUM(r.quantity) FILTER (WHERE r.status = 'registered'), 0)`,
    detail: (r) => `event ${r.id}: registered_count is ${r.stored} but registered orders hold ${r.actual} seats`,
  },
  {
    name: 'waitlist_count',
    query: sql`
      SELECT e.id, e.waitlist_count AS stored, COUNT(r.id) FILTER (WHERE r.status = 'waitlisted') AS actual
      FROM events e LEFT JOIN registrations r ON r.event_id = e.id
      GROUP BY e.id
      HAVING e.waitlist_count <> COUNT(r.id) FILTER (WHERE r.status = 'waitlisted')`,
    detail: (r) => `event ${r.id}: waitlist_count is ${r.stored} but ${r.actual} orders are waitlisted`,
  },
  {
    name: 'capacity',
    query: sql`SELECT id, registered_count, capacity FROM events WHERE registered_count > capacity OR registered_count < 0`,
    detail: (r) => `event ${r.id}: registered_count ${r.registered_count} is outside 0..capacity (${r.capacity})`,
  },
  {
    name: 'registered_tickets',
    query: sql`
      SELECT r.id, r.quantity, COUNT(t.id) AS tickets, COUNT(DISTINCT t.seat) AS seats, MIN(t.seat) AS min_seat, MAX(t.seat) AS max_seat
      FROM registrations r LEFT JOIN tickets t ON t.registration_id = r.id
      WHERE r.status = 'registered'
      GROUP BY r.id
      HAVING COUNT(t.id) <> r.quantity OR COUNT(DISTINCT t.seat) <> r.quantity
          OR COALESCE(MIN(t.seat), 0) <> 1 OR COALESCE(MAX(t.seat), 0) <> r.quantity`,
    detail: (r) =>
      `registration ${r.id}: registered for ${r.quantity} seats but has ${r.tickets} tickets` +
      (Number(r.tickets) > 0 ? ` (seats ${r.min_seat}..${r.max_seat}, ${r.seats} distinct)` : ''),
  },
  {
    name: 'waitlisted_tickets',
    query: sql`
      SELECT r.id, COUNT(t.id) AS tickets
      FROM registrations r JOIN tickets t ON t.registration_id = r.id
      WHERE r.status = 'waitlisted'
      GROUP BY r.id`,
    detail: (r) => `registration ${r.id}: waitlisted but holds ${r.tickets} tickets`,
  },
  {
    name: 'cancelled_tickets',
    query: sql`
      SELECT r.id, r.quantity, COUNT(t.id) AS tickets, COUNT(DISTINCT t.seat) AS seats
      FROM registrations r JOIN tickets t ON t.registration_id = r.id
      WHERE r.status = 'cancelled'
      GROUP BY r.id, r.quantity
      HAVING COUNT(t.id) <> r.quantity OR COUNT(DISTINCT t.seat) <> r.quantity`,
    detail: (r) => `registration ${r.id}: cancelled with a partial set of ${r.tickets} tickets for ${r.quantity} seats`,
  },
  {
    name: 'ticket_event',
    query: sql`
      SELECT t.id, t.event_id AS ticket_event, r.event_id AS registration_event
      FROM tickets t JOIN registrations r ON r.id = t.registration_id
      WHERE t.event_id <> r.event_id`,
    detail: (r) => `ticket ${r.id}: belongs to event ${r.ticket_event} but its registration to ${r.registration_event}`,
  },
  {
    name: 'ticket_codes',
    query: sql`SELECT code, COUNT(*) AS copies FROM tickets GROUP BY code HAVING COUNT(*) > 1`,
    detail: (r) => `ticket code ${r.code} is used by ${r.copies} tickets`,
  },
  {
    name: 'live_registrations',
    query: sql`
      SELECT user_id, event_id, COUNT(*) AS live FROM registrations
      WHERE status <> 'cancelled' GROUP BY user_id, event_id HAVING COUNT(*) > 1`,
    detail: (r) => `user ${r.user_id} has ${r.live} live registrations for event ${r.event_id}`,
  },
  {
    name: 'ratings',
    query: sql`
      SELECT e.id, e.rating_sum AS stored_sum, e.rating_count AS stored_count,
             COALESCE(SUM(f.rating), 0) AS actual_sum, COUNT(f.id) AS actual_count
      FROM events e LEFT JOIN feedbacks f ON f.event_id = e.id
      GROUP BY e.id
      HAVING e.rating_sum <> COALESCE(SUM(f.rating), 0) OR e.rating_count <> COUNT(f.id)`,
    detail: (r) =>
      `event ${r.id}: rating_sum/rating_count are ${r.stored_sum}/${r.stored_count} but feedbacks add up to ${r.actual_sum}/${r.actual_count}`,
  },
];

async function rows(db: Db, query: SQL): Promise<Row[]> {
  // Both drivers (pg and PGlite) answer execute() with `{ rows }`; the driver-agnostic Db types it unknown.
  const result: unknown = await db.execute(query);
  return (result as { rows: Row[] }).rows;
}

/**
 * Verifies that every registration is whole (registered with exactly `quantity` tickets on seats 1..quantity and
 * counted in its event) or holds no seat, and that the denormalized counters match the rows they summarize.
 * Read-only; run it on a stopped or a live database (a live one may show a transient mismatch only if a
 * writer bypasses the transactions, which is exactly what it is meant to find).
 */
export async function checkIntegrity(db: Db): Promise<IntegrityReport> {
  const problems: IntegrityProblem[] = [];
  for (const check of checks) {
    const found = await rows(db, sql`${check.query} LIMIT ${ROWS_PER_CHECK}`);
    for (const row of found) problems.push({ check: check.name, detail: check.detail(row) });
  }
  const [count] = await rows(
    db,
    sql`SELECT (SELECT COUNT(*) FROM events) AS events, (SELECT COUNT(*) FROM registrations) AS registrations,
               (SELECT COUNT(*) FROM tickets) AS tickets, (SELECT COUNT(*) FROM feedbacks) AS feedbacks`,
  );
  return {
    problems,
    counts: {
      events: Number(count!.events),
      registrations: Number(count!.registrations),
      tickets: Number(count!.tickets),
      feedbacks: Number(count!.feedbacks),
    },
  };
}
