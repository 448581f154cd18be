import { and, asc, count, desc, eq, gte, inArray, ne, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { executeNamed, preparedPerDb } from '../../db/prepared.js';
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

export async function findRegistration(db: Db, id: string): Promise<RegistrationRow | undefined> {
  const [row] = await db.select().from(registrations).where(eq(registrations.id, id)).limit(1);
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
): Promise<{ event: EventRow; holders: Map<string, RegistrationStatus> } | undefined> {
  const [row] = await db
    .select({
      event: events,
      holders: sql<Array<[string, RegistrationStatus]>>`(
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

/** An order decided by the seat rule, with the id it will have: its tickets are written in the same statement. */
export interface DecidedOrder {
  id: string;
  userId: string;
  quantity: number;
  status: 'registered' | 'waitlisted';
  createdAt: Date;
}

/** A ticket for one seat of a decided order. */
export interface SeatTicket {
  id: string;
  registrationId: string;
  seat: number;
  code: string;
}

/** CTEs a caller adds to insertDecidedOrders' statement, and what its select must read so they run. */
export interface AlongsideCtes {
  ctes: SQL;
  read: SQL;
}

/**
 * Writes a batch of decided orders for one event in one statement, so one round trip while the caller holds the
 * event's row lock: inserts the registrations, skipping any user who already holds a live one (the unique index);
 * adds their seats and queue places to the event's counts; issues the tickets of the orders that went in,
 * skipping any whose code is taken; and runs the caller's `alongside` CTEs (notifications). Answers which orders
 * went in, each with its place among the orders waitlisted before this statement (its snapshot does not see the
 * rows it inserts: the caller counts the new ones ahead), and which tickets were issued.
 */
export async function insertDecidedOrders(
  db: Db,
  eventId: string,
  orders: DecidedOrder[],
  seats: SeatTicket[],
  alongside: AlongsideCtes,
): Promise<{ inserted: Map<string, number | null>; issued: Set<string> }> {
  const ordersJson = JSON.stringify(
    orders.map((o) => ({ id: o.id, user_id: o.userId, quantity: o.quantity, status: o.status, created_at: o.createdAt.toISOString() })),
  );
  const seatsJson = JSON.stringify(seats.map((t) => ({ id: t.id, registration_id: t.registrationId, seat: t.seat, code: t.code })));
  const position = positionInQueue({ id: sql`i.id`, eventId: sql`i.event_id`, status: sql`i.status`, createdAt: sql`i.created_at` });
  const [row] = await executeNamed<{ inserted: string; issued: string }>(
    db,
    'registrations_insert_decided_orders',
    sql`
    with inserted as (
      insert into ${registrations} (id, user_id, event_id, quantity, status, created_at, updated_at)
      select id, user_id, ${eventId}, quantity, status, created_at, created_at
      from json_to_recordset(${ordersJson}::json) as o(id uuid, user_id uuid, quantity int, status text, created_at timestamptz)
      on conflict (user_id, event_id) where status <> 'cancelled' do nothing
      returning id, event_id, quantity, status, created_at
    ),
    counted as (
      update ${events} set
        registered_count = registered_count + (select coalesce(sum(quantity) filter (where status = 'registered'), 0)::int from inserted),
        waitlist_count = waitlist_count + (select count(*) filter (where status = 'waitlisted')::int from inserted),
        updated_at = (select max(created_at) from inserted)
      where id = ${eventId} and exists (select 1 from inserted)
    ),
    issued as (
      insert into ${tickets} (id, registration_id, event_id, seat, code, created_at)
      select t.id, t.registration_id, i.event_id, t.seat, t.code, i.created_at
      from json_to_recordset(${seatsJson}::json) as t(id uuid, registration_id uuid, seat int, code text)
      join inserted as i on i.id = t.registration_id
      on conflict (code) do nothing
      returning id
    ),
    ${alongside.ctes}
    select
      (select coalesce(json_agg(json_build_array(i.id, ${position})), '[]') from inserted as i)::text as inserted,
      (select coalesce(json_agg(id), '[]') from issued)::text as issued,
      ${alongside.read} as alongside`,
  );
  return {
    inserted: new Map(JSON.parse(row!.inserted) as Array<[string, number | null]>),
    issued: new Set(JSON.parse(row!.issued) as string[]),
  };
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
type QueueKeys = { [K in 'id' | 'eventId' | 'status' | 'createdAt']: SQLWrapper };
/** 1-based place among the event's waitlisted orders (by created_at, then id), in SQL; null unless waitlisted. */
const positionInQueue = (row: QueueKeys) => sql<number | null>`case when ${row.status} = ${waitlisted} then (
  select count(*)::int + 1 from ${registrations} as ahead
  where ahead.event_id = ${row.eventId} and ahead.status = ${waitlisted}
    and (ahead.created_at, ahead.id) < (${row.createdAt}, ${row.id})
) end`;
/** Computed in SQL so a page of registrations needs no query per row. */
const waitlistPosition = positionInQueue(registrations);

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

/** Newest first, or oldest with `oldestFirst`; `limit` undefined returns every matching row. */
export async function listRegistrationViews(
  db: Db,
  filter: RegistrationFilter,
  page: { limit?: number; offset?: number; oldestFirst?: boolean } = {},
): Promise<{ rows: RegistrationView[]; total: number }> {
  const where = filterWhere(filter);
  const order = page.oldestFirst
    ? [asc(registrations.createdAt), asc(registrations.id)]
    : [desc(registrations.createdAt), desc(registrations.id)];
  // The exact count rides along as an uncorrelated subquery (computed once): one statement instead of two.
  const countQuery = db
    .select({ value: count() })
    .from(registrations)
    .innerJoin(events, eq(events.id, registrations.eventId))
    .where(where);
  let query = db
    .select({ ...viewColumns, total: sql<number>`(${countQuery})`.mapWith(Number) })
    .from(registrations)
    .innerJoin(events, eq(events.id, registrations.eventId))
    .innerJoin(users, eq(users.id, registrations.userId))
    .where(where)
    .orderBy(...order)
    .$dynamic();
  if (page.limit !== undefined) query = query.limit(page.limit).offset(page.offset ?? 0);
  const rows = await query;
  if (rows.length > 0) return { rows: rows.map(({ total: _, ...row }) => flatten(row)), total: rows[0]!.total };
  // Past the last page (or nothing matches): no row carried the count.
  const [total] = page.offset ? await countQuery : [{ value: 0 }];
  return { rows: [], total: total!.value };
}

/** A timestamptz as JSON's ISO 8601 text in UTC, exactly as `Date.toISOString()` writes it (milliseconds, truncated). */
const isoUtc = (column: SQLWrapper) => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** `[a,b,…]` from JSON texts, compact like JSON.stringify (json_agg would add a space and a newline between items). */
const jsonArrayOf = (item: SQL, orderBy: SQL) => sql`coalesce('[' || string_agg(${item}, ',' order by ${orderBy}) || ']', '[]')`;

/**
 * One registration as the API's `Registration` JSON (see `toRegistrationResponse`, which a test holds this to), built
 * by PostgreSQL: `row_to_json` names each field after its column alias.
 */
const registrationJson = sql`(select row_to_json(item)::text from (select
    r.id, r.user_id as "user", r.event_id as event, e.title as event_title, ${isoUtc(sql`e.date_time`)} as event_date_time,
    r.quantity, r.status, r.status = ${waitlisted} as is_waitlisted,
    ${positionInQueue({ id: sql`r.id`, eventId: sql`r.event_id`, status: sql`r.status`, createdAt: sql`r.created_at` })} as waitlist_position,
    ${isoUtc(sql`r.created_at`)} as created_at, ${isoUtc(sql`r.cancelled_at`)} as cancelled_at,
    (select ${jsonArrayOf(sql`row_to_json(t)::text`, sql`t.seat`)}::json
      from (select id, code, seat, is_used from ${tickets} where registration_id = r.id) as t) as ticket_instances
  ) as item)`;

const mineFilter = sql`r.user_id = ${sql.placeholder('userId')}
  and (${sql.placeholder('status')}::text is null or r.status = ${sql.placeholder('status')}::text)
  and (${sql.placeholder('eventsFrom')}::timestamptz is null
    or exists (select 1 from ${events} as e where e.id = r.event_id and e.date_time >= ${sql.placeholder('eventsFrom')}::timestamptz))`;

/**
 * `GET /registrations/mine/`, the page a signed-in attendee reloads most, as one prepared statement (planned once per
 * pooled connection) that answers the total and the page's `results` array as finished JSON text: the server
 * neither maps rows nor serializes them, which is most of what this route costs in Node. One row even past the end.
 */
const minePageJson = preparedPerDb((db) =>
  db
    .select({
      total: sql<number>`(select count(*) from ${registrations} as r where ${mineFilter})`.mapWith(Number),
      results: sql<string>`${jsonArrayOf(sql`page.json`, sql`page.created_at desc, page.id desc`)}`,
    })
    .from(
      sql`(select r.id, r.created_at, ${registrationJson} as json
        from ${registrations} as r join ${events} as e on e.id = r.event_id
        where ${mineFilter}
        order by r.created_at desc, r.id desc
        limit ${sql.placeholder('limit')} offset ${sql.placeholder('offset')}) as page`,
    )
    .prepare('registrations_mine_page_json'),
);

/** One page of a user's registrations with their tickets: the total, and the items as a JSON array text. */
export async function listMineJson(
  db: Db,
  filter: { userId: string; status?: RegistrationStatus; eventsFrom?: Date },
  page: { limit: number; offset: number },
): Promise<{ total: number; resultsJson: string }> {
  const [row] = await minePageJson(db).execute({
    userId: filter.userId,
    status: filter.status ?? null,
    eventsFrom: filter.eventsFrom?.toISOString() ?? null,
    limit: page.limit,
    offset: page.offset,
  });
  return { total: row!.total, resultsJson: row!.results };
}

/** Registrations a user ever made, cancelled ones included (the staff's user page). */
export async function countByUser(db: Db, userId: string): Promise<number> {
  const [row] = await db.select({ value: count() }).from(registrations).where(eq(registrations.userId, userId));
  return row!.value;
}
