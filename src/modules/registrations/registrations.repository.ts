import { and, asc, count, desc, eq, gte, inArray, ne, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { events, registrations, tickets, users, type RegistrationStatus } from '../../db/schema.js';

export type EventRow = typeof events.$inferSelect;
export type RegistrationRow = typeof registrations.$inferSelect;
export type TicketRow = typeof tickets.$inferSelect;
export type NewTicket = typeof tickets.$inferInsert;

/** A registration with what its readers need beside it: the event's title/date/organizer and the holder's name. */
export interface RegistrationView extends RegistrationRow {
  eventTitle: string;
  eventDateTime: Date;
  eventOrganizerId: string;
  username: string;
  /** 1-based place among the event's waitlisted orders (by created_at, then id); null unless waitlisted. */
  waitlistPosition: number | null;
}

/** Locks the event row until the transaction ends: every seat change for one event queues here. */
export async function lockEvent(db: Db, eventId: string): Promise<EventRow | undefined> {
  const [row] = await db.select().from(events).where(eq(events.id, eventId)).for('update');
  return row;
}

export async function findEvent(db: Db, eventId: string): Promise<EventRow | undefined> {
  const [row] = await db.select().from(events).where(eq(events.id, eventId)).limit(1);
  return row;
}

/** Adds (or, with negative numbers, removes) registered seats and waitlisted orders; the row must be locked. */
export async function adjustEventCounts(db: Db, eventId: string, seats: number, waitlisted: number, now: Date): Promise<void> {
  if (seats === 0 && waitlisted === 0) return;
  await db
    .update(events)
    .set({
      registeredCount: sql`${events.registeredCount} + ${seats}`,
      waitlistCount: sql`${events.waitlistCount} + ${waitlisted}`,
      updatedAt: now,
    })
    .where(eq(events.id, eventId));
}

export async function findLiveRegistration(db: Db, userId: string, eventId: string): Promise<RegistrationRow | undefined> {
  const [row] = await db
    .select()
    .from(registrations)
    .where(and(eq(registrations.userId, userId), eq(registrations.eventId, eventId), ne(registrations.status, 'cancelled')))
    .limit(1);
  return row;
}

export async function findRegistration(db: Db, id: string): Promise<RegistrationRow | undefined> {
  const [row] = await db.select().from(registrations).where(eq(registrations.id, id)).limit(1);
  return row;
}

/** Inserts unless the user already holds a live registration for the event; undefined then. */
export async function insertRegistrationIfNoneLive(
  db: Db,
  values: typeof registrations.$inferInsert,
): Promise<RegistrationRow | undefined> {
  const [row] = await db
    .insert(registrations)
    .values(values)
    .onConflictDoNothing({
      target: [registrations.userId, registrations.eventId],
      where: sql`${registrations.status} <> 'cancelled'`,
    })
    .returning();
  return row;
}

/** 1-based place of a waitlisted order in its event's queue. */
export async function waitlistPositionOf(db: Db, registration: RegistrationRow): Promise<number> {
  const [row] = await db
    .select({ ahead: count() })
    .from(registrations)
    .where(
      and(
        eq(registrations.eventId, registration.eventId),
        eq(registrations.status, 'waitlisted'),
        sql`(${registrations.createdAt}, ${registrations.id}) < (${registration.createdAt}, ${registration.id})`,
      ),
    );
  return row!.ahead + 1;
}

export async function setRegistrationStatus(
  db: Db,
  ids: string[],
  status: RegistrationStatus,
  now: Date,
): Promise<RegistrationRow[]> {
  if (ids.length === 0) return [];
  return db
    .update(registrations)
    .set({ status, updatedAt: now, ...(status === 'cancelled' ? { cancelledAt: now } : {}) })
    .where(inArray(registrations.id, ids))
    .returning();
}

/** Waitlisted orders of an event in the order they are served: oldest first, ties by id. */
export async function listWaitlisted(db: Db, eventId: string): Promise<RegistrationRow[]> {
  return db
    .select()
    .from(registrations)
    .where(and(eq(registrations.eventId, eventId), eq(registrations.status, 'waitlisted')))
    .orderBy(asc(registrations.createdAt), asc(registrations.id));
}

export async function listLiveRegistrations(db: Db, eventId: string): Promise<RegistrationRow[]> {
  return db
    .select()
    .from(registrations)
    .where(and(eq(registrations.eventId, eventId), ne(registrations.status, 'cancelled')));
}

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

export interface TicketLookup {
  ticket: TicketRow;
  registration: RegistrationRow;
  event: EventRow;
  holderUsername: string;
}

export async function findTicketByCode(db: Db, code: string): Promise<TicketLookup | undefined> {
  const [row] = await db
    .select({ ticket: tickets, registration: registrations, event: events, holderUsername: users.username })
    .from(tickets)
    .innerJoin(registrations, eq(registrations.id, tickets.registrationId))
    .innerJoin(events, eq(events.id, tickets.eventId))
    .innerJoin(users, eq(users.id, registrations.userId))
    .where(eq(tickets.code, code))
    .limit(1);
  return row;
}

/** Marks a ticket used unless it already is; undefined means another scan got there first. */
export async function markTicketUsed(db: Db, ticketId: string, now: Date): Promise<TicketRow | undefined> {
  const [row] = await db
    .update(tickets)
    .set({ isUsed: true, usedAt: now })
    .where(and(eq(tickets.id, ticketId), eq(tickets.isUsed, false)))
    .returning();
  return row;
}

const waitlisted = sql.raw(`'waitlisted'`);
/** Computed in SQL so a page of registrations needs no query per row. */
const waitlistPosition = sql<number | null>`case when ${registrations.status} = ${waitlisted} then (
  select count(*)::int + 1 from ${registrations} as ahead
  where ahead.event_id = ${registrations.eventId} and ahead.status = ${waitlisted}
    and (ahead.created_at, ahead.id) < (${registrations.createdAt}, ${registrations.id})
) end`;

const viewColumns = {
  registration: registrations,
  eventTitle: events.title,
  eventDateTime: events.dateTime,
  eventOrganizerId: events.organizerId,
  username: users.username,
  waitlistPosition,
};

function viewQuery(db: Db) {
  return db
    .select(viewColumns)
    .from(registrations)
    .innerJoin(events, eq(events.id, registrations.eventId))
    .innerJoin(users, eq(users.id, registrations.userId));
}

type ViewRow = { registration: RegistrationRow } & Omit<RegistrationView, keyof RegistrationRow>;
const flatten = ({ registration, ...rest }: ViewRow): RegistrationView => ({ ...registration, ...rest });

export async function findRegistrationView(db: Db, id: string): Promise<RegistrationView | undefined> {
  const [row] = await viewQuery(db).where(eq(registrations.id, id)).limit(1);
  return row && flatten(row);
}

export interface RegistrationFilter {
  userId?: string;
  eventId?: string;
  status?: RegistrationStatus;
  /** Only events starting at or after this instant. */
  eventsFrom?: Date;
}

function filterWhere(filter: RegistrationFilter): SQL | undefined {
  return and(
    filter.userId ? eq(registrations.userId, filter.userId) : undefined,
    filter.eventId ? eq(registrations.eventId, filter.eventId) : undefined,
    filter.status ? eq(registrations.status, filter.status) : undefined,
    filter.eventsFrom ? gte(events.dateTime, filter.eventsFrom) : undefined,
  );
}

/** Newest first; `limit` undefined returns every matching row (CSV export). */
export async function listRegistrationViews(
  db: Db,
  filter: RegistrationFilter,
  page: { limit?: number; offset?: number; oldestFirst?: boolean } = {},
): Promise<{ rows: RegistrationView[]; total: number }> {
  const where = filterWhere(filter);
  const order = page.oldestFirst
    ? [asc(registrations.createdAt), asc(registrations.id)]
    : [desc(registrations.createdAt), desc(registrations.id)];
  let query = viewQuery(db).where(where).orderBy(...order).$dynamic();
  if (page.limit !== undefined) query = query.limit(page.limit).offset(page.offset ?? 0);
  const [rows, [total]] = await Promise.all([
    query,
    db
      .select({ value: count() })
      .from(registrations)
      .innerJoin(events, eq(events.id, registrations.eventId))
      .where(where),
  ]);
  return { rows: rows.map(flatten), total: total!.value };
}
