import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { CsvCell } from '../../lib/csv.js';
import { events, registrations, tickets } from '../../db/schema.js';
import { isoUtc, jsonArrayOf } from '../../db/sql-json.js';

/**
 * Every shape of a registration, side by side: the API's JSON as TypeScript writes it, the same JSON as PostgreSQL
 * writes it for `GET /registrations/mine/`, and the organizer's CSV door-list row. A change to one is a change to
 * all: test/registrations.test.ts holds the SQL JSON equal to the TypeScript one.
 */

type RegistrationRow = typeof registrations.$inferSelect;
type TicketRow = typeof tickets.$inferSelect;

/** A registration with what its readers need beside it: the event's title/date/organizer and the holder's name. */
export interface RegistrationView extends RegistrationRow {
  eventTitle: string;
  eventDateTime: Date;
  eventOrganizerId: string;
  username: string;
  /** 1-based place among the event's waitlisted orders (by created_at, then id); null unless waitlisted. */
  waitlistPosition: number | null;
}

export interface RegistrationWithTickets extends RegistrationView {
  tickets: TicketRow[];
}

/** The API's `Registration`. */
export function toRegistrationResponse(r: RegistrationWithTickets) {
  return {
    id: r.id,
    user: r.userId,
    event: r.eventId,
    event_title: r.eventTitle,
    event_date_time: r.eventDateTime.toISOString(),
    quantity: r.quantity,
    status: r.status,
    is_waitlisted: r.status === 'waitlisted',
    waitlist_position: r.waitlistPosition,
    created_at: r.createdAt.toISOString(),
    cancelled_at: r.cancelledAt?.toISOString() ?? null,
    ticket_instances: r.tickets.map((t) => ({ id: t.id, code: t.code, seat: t.seat, is_used: t.isUsed })),
  };
}

/** The organizer's list also names each holder, with their email, and says when each ticket was checked in. */
export const toEventRegistrationResponse = (r: RegistrationWithTickets & { email: string }) => ({
  ...toRegistrationResponse(r),
  username: r.username,
  email: r.email,
  ticket_instances: r.tickets.map((t) => ({
    id: t.id,
    code: t.code,
    seat: t.seat,
    is_used: t.isUsed,
    used_at: t.usedAt?.toISOString() ?? null,
  })),
});

export const CSV_HEADER = [
  'registration_id',
  'username',
  'status',
  'quantity',
  'created_at',
  'cancelled_at',
  'waitlist_position',
  'ticket_codes',
  'checked_in',
];

/** One line of the CSV door list, in CSV_HEADER's order. */
export function toCsvRow(r: RegistrationWithTickets): CsvCell[] {
  return [
    r.id,
    r.username,
    r.status,
    r.quantity,
    r.createdAt.toISOString(),
    r.cancelledAt?.toISOString(),
    r.waitlistPosition,
    r.tickets.map((t) => t.code).join(' '),
    r.tickets.filter((t) => t.isUsed).length,
  ];
}

const waitlisted = sql.raw(`'waitlisted'`);
type QueueKeys = { [K in 'id' | 'eventId' | 'status' | 'createdAt']: SQLWrapper };

/**
 * 1-based place among the event's waitlisted orders, in the queue's order (created_at, then id: as PostgreSQL
 * compares uuids), null unless waitlisted: the one definition of a waiting-list position. `alsoQueued` names a
 * relation of orders the statement writes itself (its snapshot cannot see them among the registrations).
 */
export const positionInQueue = (row: QueueKeys, alsoQueued?: SQL) => sql<number | null>`case when ${row.status} = ${waitlisted} then (
  select count(*)::int + 1 from ${registrations} as ahead
  where ahead.event_id = ${row.eventId} and ahead.status = ${waitlisted}
    and (ahead.created_at, ahead.id) < (${row.createdAt}, ${row.id})
) ${
  alsoQueued
    ? sql`+ (select count(*)::int from ${alsoQueued} as queued where queued.status = ${waitlisted}
    and (queued.created_at, queued.id) < (${row.createdAt}, ${row.id}))`
    : sql``
} end`;

/**
 * toRegistrationResponse written by PostgreSQL, for the registration `r` joined with its event `e`: `row_to_json`
 * names each field after its column alias.
 */
export const registrationJsonSql = sql`(select row_to_json(item)::text from (select
    r.id, r.user_id as "user", r.event_id as event, e.title as event_title, ${isoUtc(sql`e.date_time`)} as event_date_time,
    r.quantity, r.status, r.status = ${waitlisted} as is_waitlisted,
    ${positionInQueue({ id: sql`r.id`, eventId: sql`r.event_id`, status: sql`r.status`, createdAt: sql`r.created_at` })} as waitlist_position,
    ${isoUtc(sql`r.created_at`)} as created_at, ${isoUtc(sql`r.cancelled_at`)} as cancelled_at,
    (select ${jsonArrayOf(sql`row_to_json(t)::text`, sql`t.seat`)}::json
      from (select id, code, seat, is_used from ${tickets} where registration_id = r.id) as t) as ticket_instances
  ) as item)`;

/**
 * Everything registrationJsonSql reads, as one version text (db/row-version-cache.ts): the registration's and its
 * event's row versions, the waiting-list place (others' orders move it), and its tickets' row versions. It needs the
 * registration `r` only: each part is a subquery, which PostgreSQL runs for the rows of a page only, after its limit
 * (a join with events probed all of a user's registrations' events; and an ordered string_agg sorted each one's
 * tickets again, where the index already holds them by seat).
 */
export const registrationVersionSql = sql<string>`r.xmin::text || '.' || (select version_of.xmin::text from ${events} as version_of where version_of.id = r.event_id) || '.' || coalesce(${positionInQueue(
  {
    id: sql`r.id`,
    eventId: sql`r.event_id`,
    status: sql`r.status`,
    createdAt: sql`r.created_at`,
  },
)}::text, '') || '.' || array_to_string(array(select t.xmin::text from ${tickets} as t where t.registration_id = r.id order by t.seat), '.')`;
