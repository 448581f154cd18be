import { aliasedTable, and, asc, count, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { events, registrations, tickets, users } from '../../db/schema.js';

export type TicketRow = typeof tickets.$inferSelect;
export type NewTicket = typeof tickets.$inferInsert;

/** A ticket with its registration, its event and its holder's name: what the door and the holder see. */
export interface TicketLookup {
  ticket: TicketRow;
  registration: typeof registrations.$inferSelect;
  event: typeof events.$inferSelect;
  holderUsername: string;
  /** Who checked it in, while that account exists. */
  usedByUsername: string | null;
}

const checker = aliasedTable(users, 'checker');

/** Inserts tickets whose code is still free; the rows whose code was taken are simply not returned. */
export async function insertTicketsSkippingTakenCodes(db: Db, values: NewTicket[]): Promise<TicketRow[]> {
  if (values.length === 0) return [];
  return db.insert(tickets).values(values).onConflictDoNothing({ target: tickets.code }).returning();
}

export async function listTicketsOf(db: Db, registrationIds: string[]): Promise<TicketRow[]> {
  if (registrationIds.length === 0) return [];
  return db
    .select()
    .from(tickets)
    .where(inArray(tickets.registrationId, registrationIds))
    .orderBy(asc(tickets.registrationId), asc(tickets.seat));
}

export async function findTicketByCode(db: Db, code: string): Promise<TicketLookup | undefined> {
  const [row] = await db
    .select({
      ticket: tickets,
      registration: registrations,
      event: events,
      holderUsername: users.username,
      usedByUsername: checker.username,
    })
    .from(tickets)
    .innerJoin(registrations, eq(registrations.id, tickets.registrationId))
    .innerJoin(events, eq(events.id, tickets.eventId))
    .innerJoin(users, eq(users.id, registrations.userId))
    .leftJoin(checker, eq(checker.id, tickets.usedBy))
    .where(eq(tickets.code, code))
    .limit(1);
  return row;
}

/** Marks a ticket used by `userId` unless it already is; undefined means another scan got there first. */
export async function markTicketUsed(db: Db, ticketId: string, userId: string, now: Date): Promise<TicketRow | undefined> {
  const [row] = await db
    .update(tickets)
    .set({ isUsed: true, usedAt: now, usedBy: userId })
    .where(and(eq(tickets.id, ticketId), eq(tickets.isUsed, false)))
    .returning();
  return row;
}

/** Tickets of the event's registered orders that were checked in. */
export async function countCheckedIn(db: Db, eventId: string): Promise<number> {
  const [row] = await db
    .select({ value: count() })
    .from(tickets)
    .innerJoin(registrations, eq(registrations.id, tickets.registrationId))
    .where(and(eq(tickets.eventId, eventId), eq(tickets.isUsed, true), eq(registrations.status, 'registered')));
  return row!.value;
}
