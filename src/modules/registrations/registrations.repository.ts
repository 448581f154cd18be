import { and, asc, count, desc, eq, gte, ilike, ne, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { arraysOf, coalescedReads } from '../../db/coalesce.js';
import { namedStatement, preparedPerDb } from '../../db/prepared.js';
import { pageTextOf, RowVersionCache, versionItem, versionListOf, type PageJson } from '../../db/row-version-cache.js';
import { events, registrations, tickets, users, type RegistrationStatus } from '../../db/schema.js';
import { oneRow } from '../../db/sql-json.js';
import type { AttendeeOrdering } from './registrations.schemas.js';
import { positionInQueue, registrationJsonSql, registrationVersionSql, type RegistrationView } from './registrations.present.js';

/** Reads only: every write to registrations (and to an event's seat counters) is in ledger.repository.ts. */

export type EventRow = typeof events.$inferSelect;
export type RegistrationRow = typeof registrations.$inferSelect;

export async function findEvent(db: Db, eventId: string): Promise<EventRow | undefined> {
  const [row] = await db.select().from(events).where(eq(events.id, eventId)).limit(1);
  return row;
}

export async function findRegistration(db: Db, id: string): Promise<RegistrationRow | undefined> {
  const [row] = await db.select().from(registrations).where(eq(registrations.id, id)).limit(1);
  return row;
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

/** Computed in SQL so a page of registrations needs no query per row. */
const waitlistPosition = positionInQueue(registrations);

const viewColumns = {
  registration: registrations,
  eventTitle: events.title,
  eventDateTime: events.dateTime,
  eventOrganizerId: events.organizerId,
  username: users.username,
  email: users.email,
  waitlistPosition,
};

function viewQuery(db: Db) {
  return db
    .select(viewColumns)
    .from(registrations)
    .innerJoin(events, eq(events.id, registrations.eventId))
    .innerJoin(users, eq(users.id, registrations.userId));
}

/** A registration as its event's organizer sees it: with the holder's email too. */
export type AttendeeView = RegistrationView & { email: string };

type ViewRow = { registration: RegistrationRow } & Omit<AttendeeView, keyof RegistrationRow>;
const flatten = ({ registration, ...rest }: ViewRow): AttendeeView => ({ ...registration, ...rest });

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
  /** Holder's username or email contains it, or one of the registration's ticket codes does (case-insensitive). */
  search?: string;
}

/** ILIKE pattern "contains `term`", with LIKE's wildcards (and its escape character) in the term matched literally. */
const contains = (term: string) => `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function filterWhere(filter: RegistrationFilter): SQL | undefined {
  const search = filter.search?.trim();
  const pattern = search ? contains(search) : undefined;
  return and(
    filter.userId ? eq(registrations.userId, filter.userId) : undefined,
    filter.eventId ? eq(registrations.eventId, filter.eventId) : undefined,
    filter.status ? eq(registrations.status, filter.status) : undefined,
    filter.eventsFrom ? gte(events.dateTime, filter.eventsFrom) : undefined,
    pattern
      ? or(
          ilike(users.username, pattern),
          ilike(users.email, pattern),
          sql`exists (select 1 from ${tickets} where ${tickets.registrationId} = ${registrations.id} and ${tickets.code} ilike ${pattern})`,
        )
      : undefined,
  );
}

/** Every ordering ends with creation time and id, so pages never overlap or skip rows that tie. */
const attendeeOrder: Record<AttendeeOrdering, SQL[]> = {
  created_at: [asc(registrations.createdAt), asc(registrations.id)],
  '-created_at': [desc(registrations.createdAt), desc(registrations.id)],
  username: [asc(users.username), asc(registrations.createdAt), asc(registrations.id)],
  '-username': [desc(users.username), asc(registrations.createdAt), asc(registrations.id)],
  email: [asc(users.email), asc(registrations.createdAt), asc(registrations.id)],
  '-email': [desc(users.email), asc(registrations.createdAt), asc(registrations.id)],
  quantity: [asc(registrations.quantity), asc(registrations.createdAt), asc(registrations.id)],
  '-quantity': [desc(registrations.quantity), asc(registrations.createdAt), asc(registrations.id)],
};

/**
 * Newest first, oldest with `oldestFirst`, or in `ordering`; `limit` undefined returns every matching row. The
 * holder's email rides along for the event's organizer.
 */
export async function listRegistrationViews(
  db: Db,
  filter: RegistrationFilter,
  page: { limit?: number; offset?: number; oldestFirst?: boolean; ordering?: AttendeeOrdering } = {},
): Promise<{ rows: AttendeeView[]; total: number }> {
  const where = filterWhere(filter);
  const order = page.ordering
    ? attendeeOrder[page.ordering]
    : page.oldestFirst
      ? [asc(registrations.createdAt), asc(registrations.id)]
      : [desc(registrations.createdAt), desc(registrations.id)];
  // The exact count rides along as an uncorrelated subquery (computed once): one statement instead of two.
  const countQuery = db
    .select({ value: count() })
    .from(registrations)
    .innerJoin(events, eq(events.id, registrations.eventId))
    .innerJoin(users, eq(users.id, registrations.userId))
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

/** The registrations of `/registrations/mine/`, for the user, status and events' start its three values give. */
const mineFilterOf = (
  ask: Record<'userId' | 'status' | 'eventsFrom', SQL | ReturnType<typeof sql.placeholder>>,
) => sql`r.user_id = ${ask.userId}
  and (${ask.status}::text is null or r.status = ${ask.status}::text)
  and (${ask.eventsFrom}::timestamptz is null
    or exists (select 1 from ${events} as e where e.id = r.event_id and e.date_time >= ${ask.eventsFrom}::timestamptz))`;
const mineFilter = mineFilterOf({
  userId: sql.placeholder('userId'),
  status: sql.placeholder('status'),
  eventsFrom: sql.placeholder('eventsFrom'),
});
const mineOrder = sql`order by r.created_at desc, r.id desc`;

/**
 * `GET /registrations/mine/` in one prepared statement, the total and the page as one finished JSON array: for a page
 * whose registrations changed between minePageVersions and reading their JSON. One row even past the end.
 */
const minePageJson = preparedPerDb((db) =>
  db
    .select({
      total: sql<number>`(select count(*) from ${registrations} as r where ${mineFilter})`.mapWith(Number),
      results: pageTextOf(
        'json',
        sql`select ${registrationJsonSql} from ${registrations} as r join ${events} as e on e.id = r.event_id
          where ${mineFilter} ${mineOrder}
          limit ${sql.placeholder('limit')} offset ${sql.placeholder('offset')}`,
      ),
    })
    .from(oneRow)
    .prepare('registrations_mine_page_json'),
);

/**
 * `GET /registrations/mine/`, the page a signed-in attendee reloads most: each registration's id and version
 * (registrationVersionSql) for registrationJsonByVersion, and the total. One row per ask (its user, status, events'
 * start, limit and offset), in their order: the pages asked for at once are read by one statement (coalescedReads).
 */
const askedMine = mineFilterOf({ userId: sql`ask.user_id`, status: sql`ask.status`, eventsFrom: sql`ask.events_from` });
const minePagesVersions = namedStatement<{ total: number; results: string }>(
  'registrations_mine_pages_versions',
  sql`select (select count(*) from ${registrations} as r where ${askedMine})::int as total,
      ${versionListOf(sql`select ${versionItem(sql`r.id`, registrationVersionSql)} from ${registrations} as r
        where ${askedMine} ${mineOrder}
        limit ask.lim offset ask.off`)} as results
    from unnest(${sql.placeholder('userId')}::uuid[], ${sql.placeholder('status')}::text[], ${sql.placeholder('eventsFrom')}::timestamptz[],
      ${sql.placeholder('limit')}::bigint[], ${sql.placeholder('offset')}::bigint[]) with ordinality as ask(user_id, status, events_from, lim, off, n)
    order by ask.n`,
);
type MineAsk = { userId: string; status: string | null; eventsFrom: string | null; limit: number; offset: number };
const minePageVersions = coalescedReads<MineAsk, { total: number; results: string }>(
  (db, _key, asks) => minePagesVersions(db, arraysOf(asks)),
  64,
);

const registrationJsonsByIds = preparedPerDb((db) =>
  db
    .select({ id: sql<string>`r.id`, version: registrationVersionSql, json: sql<string>`${registrationJsonSql}` })
    .from(sql`${registrations} as r join ${events} as e on e.id = r.event_id`)
    .where(sql`r.id = any(${sql.placeholder('ids')}::uuid[])`)
    .prepare('registration_jsons_by_ids'),
);

/** Up to 20,000 registrations' JSON per worker, by version (registrationVersionSql; never stale). */
const registrationJsonByVersion = new RowVersionCache(20_000, 10 * 60_000);

/**
 * One page of a user's registrations with their tickets: the total, and the items as a JSON array text. Writing each
 * registration's JSON cost PostgreSQL more than finding the page, so it is written once per version.
 */
export async function listMineJson(
  db: Db,
  filter: { userId: string; status?: RegistrationStatus; eventsFrom?: Date },
  page: { limit: number; offset: number },
): Promise<PageJson> {
  const values = {
    userId: filter.userId,
    status: filter.status ?? null,
    eventsFrom: filter.eventsFrom?.toISOString() ?? null,
    limit: page.limit,
    offset: page.offset,
  };
  const listed = await minePageVersions(db, 'mine pages', values);
  const resultsJson = await registrationJsonByVersion.resolveArray(db, listed.results, (ids) =>
    registrationJsonsByIds(db).execute({ ids }),
  );
  if (resultsJson) return { total: listed.total, resultsJson, resultsKey: listed.results };
  // A registration, its event, place or tickets changed between the two reads: the page in one statement.
  const [row] = await minePageJson(db).execute(values);
  return { total: row!.total, resultsJson: row!.results };
}

/** Orders made for an event per UTC day (cancelled ones included: they were made), oldest day first. */
export async function registrationsPerDay(db: Db, eventId: string): Promise<{ date: string; registrations: number; seats: number }[]> {
  const day = sql<string>`to_char(${registrations.createdAt} at time zone 'UTC', 'YYYY-MM-DD')`;
  return db
    .select({ date: day, registrations: count(), seats: sql<number>`sum(${registrations.quantity})::int`.mapWith(Number) })
    .from(registrations)
    .where(eq(registrations.eventId, eventId))
    .groupBy(day)
    .orderBy(day);
}

/** Registrations a user ever made, cancelled ones included (the staff's user page). */
export async function countByUser(db: Db, userId: string): Promise<number> {
  const [row] = await db.select({ value: count() }).from(registrations).where(eq(registrations.userId, userId));
  return row!.value;
}
