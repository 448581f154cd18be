import { eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { WritePart } from '../../db/one-statement.js';
import { events, registrations, tickets, type RegistrationStatus } from '../../db/schema.js';
import type { CounterDelta, LiveStatus } from './seat-rule.js';

/**
 * The seat ledger: the only code that locks an event row or moves its `registered_count` / `waitlist_count`, and
 * the only code that changes a registration's status. Every function runs in the caller's transaction; every write
 * needs the event row locked first (lockEvent), so the seat changes of one event queue on that lock in every process.
 */

export type EventRow = typeof events.$inferSelect;
export type RegistrationRow = typeof registrations.$inferSelect;

/** Locks the event row until the transaction ends: every seat change for one event queues here. */
export async function lockEvent(db: Db, eventId: string): Promise<EventRow | undefined> {
  const [row] = await db.select().from(events).where(eq(events.id, eventId)).for('update');
  return row;
}

/**
 * Locks the event row (as lockEvent) and, in the same round trip, reads which of `userIds` already hold a live
 * registration for it. The holders come from the statement's snapshot, taken before any wait for the lock: an
 * order committed by another process during that wait is not among them. The insert's unique index still refuses
 * such a second order (insertDecidedOrders skips it), so this only saves a round trip under the lock.
 */
export async function lockEventWithHolders(
  db: Db,
  eventId: string,
  userIds: string[],
): Promise<{ event: EventRow; holders: Map<string, LiveStatus> } | undefined> {
  const [row] = await db
    .select({
      event: events,
      holders: sql<Array<[string, LiveStatus]>>`(
        select coalesce(json_agg(json_build_array(r.user_id, r.status)), '[]'::json) from ${registrations} as r
        where r.event_id = ${sql.identifier('events')}.${sql.identifier('id')} and r.status <> 'cancelled'
          and r.user_id = any(${`{${userIds.join(',')}}`}::uuid[])
      )`,
    })
    .from(events)
    .where(eq(events.id, eventId))
    .for('update');
  return row && { event: row.event, holders: new Map(row.holders) };
}

/** Moves the event's seat and waiting-list counters by `delta` (seat-rule.ts computes it); the row must be locked. */
export async function moveCounters(db: Db, eventId: string, delta: CounterDelta, now: Date): Promise<void> {
  if (delta.seats === 0 && delta.waitlisted === 0) return;
  await db
    .update(events)
    .set({
      registeredCount: sql`${events.registeredCount} + ${delta.seats}`,
      waitlistCount: sql`${events.waitlistCount} + ${delta.waitlisted}`,
      updatedAt: now,
    })
    .where(eq(events.id, eventId));
}

/** Sets the status of registrations (a promotion, a cancellation); their seats move with moveCounters. */
export async function setRegistrationStatus(db: Db, ids: string[], status: RegistrationStatus, now: Date): Promise<RegistrationRow[]> {
  if (ids.length === 0) return [];
  return db
    .update(registrations)
    .set({ status, updatedAt: now, ...(status === 'cancelled' ? { cancelledAt: now } : {}) })
    .where(inArray(registrations.id, ids))
    .returning();
}

/** An order decided by the seat rule, with the id it will have: its tickets are written in the same statement. */
export interface DecidedOrder {
  id: string;
  userId: string;
  quantity: number;
  status: LiveStatus;
  createdAt: Date;
}

/** A ticket for one seat of a decided order. */
export interface SeatTicket {
  id: string;
  registrationId: string;
  seat: number;
  code: string;
}

/** What writing a batch of decided orders answers (see decidedOrdersWrite). */
export interface DecidedOrdersWritten {
  /** The orders that went in, each with its place on the waiting list (null when it took seats). */
  inserted: Map<string, number | null>;
  /** The tickets issued (a ticket whose code was already taken is not). */
  issued: Set<string>;
}

/**
 * Writes a batch of decided orders for one event, as one part of a statement (db/one-statement.ts), so one round
 * trip while the caller holds the event's row lock: inserts the registrations, skipping any user who already holds
 * a live one (the unique index); moves the event's counters by what went in (seat-rule.ts's `joined`, summed here
 * over the inserted rows); and issues the tickets of the orders that went in, skipping any whose code is taken.
 * Answers which orders went in, each with its place on the waiting list (counting the orders this statement queued
 * ahead of it), and which tickets were issued.
 */
export function decidedOrdersWrite(eventId: string, orders: DecidedOrder[], seats: SeatTicket[]): WritePart<DecidedOrdersWritten> {
  const ordersJson = JSON.stringify(
    orders.map((o) => ({ id: o.id, user_id: o.userId, quantity: o.quantity, status: o.status, created_at: o.createdAt.toISOString() })),
  );
  const seatsJson = JSON.stringify(seats.map((t) => ({ id: t.id, registration_id: t.registrationId, seat: t.seat, code: t.code })));
  return {
    key: 'decided_orders',
    ctes: [
      [
        'inserted',
        sql`insert into ${registrations} (id, user_id, event_id, quantity, status, created_at, updated_at)
        select id, user_id, ${eventId}, quantity, status, created_at, created_at
        from json_to_recordset(${ordersJson}::json) as o(id uuid, user_id uuid, quantity int, status text, created_at timestamptz)
        on conflict (user_id, event_id) where status <> 'cancelled' do nothing
        returning id, event_id, quantity, status, created_at`,
      ],
      [
        'counted',
        sql`update ${events} set
          registered_count = registered_count + (select coalesce(sum(quantity) filter (where status = 'registered'), 0)::int from inserted),
          waitlist_count = waitlist_count + (select count(*) filter (where status = 'waitlisted')::int from inserted),
          updated_at = (select max(created_at) from inserted)
        where id = ${eventId} and exists (select 1 from inserted)`,
      ],
      [
        'issued',
        sql`insert into ${tickets} (id, registration_id, event_id, seat, code, created_at)
        select t.id, t.registration_id, i.event_id, t.seat, t.code, i.created_at
        from json_to_recordset(${seatsJson}::json) as t(id uuid, registration_id uuid, seat int, code text)
        join inserted as i on i.id = t.registration_id
        on conflict (code) do nothing
        returning id`,
      ],
      // Places on the waiting list, positionInQueue's definition (created_at, then id) computed for the whole batch in
      // one pass: the orders queued before the earliest new one are counted by the event's counter (as locked, before
      // this statement), and only the few queued since (another process's batch that took the lock first) are read.
      // Counting for each new order the orders ahead of it instead cost n × queue length under the lock.
      [
        'queued_since',
        sql`select r.id, r.created_at, false as is_new from ${registrations} as r
        where r.event_id = ${eventId} and r.status = 'waitlisted'
          and r.created_at >= (select min(created_at) from inserted where status = 'waitlisted')`,
      ],
      [
        'positions',
        sql`select q.id, q.is_new,
          (select waitlist_count from ${events} where id = ${eventId}) - (select count(*) from queued_since)
            + row_number() over (order by q.created_at, q.id) as position
        from (select id, created_at, true as is_new from inserted where status = 'waitlisted'
              union all select id, created_at, is_new from queued_since) as q`,
      ],
    ],
    answer: sql`json_build_array(
      (select coalesce(json_agg(json_build_array(i.id, p.position)), '[]')
        from inserted as i left join positions as p on p.id = i.id and p.is_new),
      (select coalesce(json_agg(id), '[]') from issued))`,
    read: (text) => {
      const [inserted, issued] = JSON.parse(text) as [Array<[string, number | null]>, string[]];
      return { inserted: new Map(inserted), issued: new Set(issued) };
    },
  };
}
