import { and, asc, count, desc, eq, gte, lt, lte, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Db } from '../../db/client.js';
import { executeByShape, preparedPerDb } from '../../db/prepared.js';
import { events } from '../../db/schema.js';
import type { Ordering } from './events.schemas.js';

export type EventRow = typeof events.$inferSelect;
export type NewEvent = typeof events.$inferInsert;

// The event detail route's one query: prepared, so neither Drizzle nor PostgreSQL rebuilds it per request.
const eventById = preparedPerDb((db) =>
  db
    .select()
    .from(events)
    .where(eq(events.id, sql.placeholder('id')))
    .limit(1)
    .prepare('event_by_id'),
);

export async function findEventById(db: Db, id: string): Promise<EventRow | undefined> {
  const [row] = await eventById(db).execute({ id });
  return row;
}

export async function insertEvent(db: Db, values: NewEvent): Promise<EventRow> {
  const [row] = await db.insert(events).values(values).returning();
  return row!;
}

export async function updateEventRow(db: Db, id: string, values: Partial<NewEvent>): Promise<EventRow> {
  const [row] = await db.update(events).set(values).where(eq(events.id, id)).returning();
  return row!;
}

export interface EventFilter {
  activeOnly?: boolean;
  /** Only active (true) or only cancelled (false) events; for staff, who see both. */
  isActive?: boolean;
  /** Events at or after this instant. */
  from?: Date;
  /** Events at or before this instant. */
  toInclusive?: Date;
  /** Events strictly before this instant (a date_to given as a day ends at the next midnight). */
  toExclusive?: Date;
  search?: string;
  location?: string;
  categoryId?: string;
  organizerId?: string;
  sellingOutSoon?: boolean;
  hasSeats?: boolean;
}

// seat-rule.ts's freeSeats and isSellingOutSoon, in SQL for the list's filters and ordering (test/events-list.test.ts
// holds the filters to the flags the responses show).
const ticketsRemaining = sql`(${events.capacity} - ${events.registeredCount})`;
const sellingOutSoon = sql`(${events.sellsOffSoonThreshold} > 0 AND ${ticketsRemaining} > 0 AND ${ticketsRemaining} <= ${events.sellsOffSoonThreshold})`;

/**
 * ILIKE pattern "contains `term`", accents removed as the trigram indexes' expression removes them, and the
 * LIKE wildcards % and _ (and the escape character) in the term matched literally.
 */
const containsPattern = (term: string) =>
  sql`'%' || replace(replace(replace(immutable_unaccent(${term}), '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'`;
const unaccentedContains = (column: AnyPgColumn, pattern: SQL) => sql`immutable_unaccent(${column}) ILIKE ${pattern}`;

function whereClause(filter: EventFilter): SQL | undefined {
  const conditions: (SQL | undefined)[] = [];
  if (filter.activeOnly) conditions.push(eq(events.isActive, true));
  if (filter.isActive !== undefined) conditions.push(eq(events.isActive, filter.isActive));
  if (filter.from) conditions.push(gte(events.dateTime, filter.from));
  if (filter.toInclusive) conditions.push(lte(events.dateTime, filter.toInclusive));
  if (filter.toExclusive) conditions.push(lt(events.dateTime, filter.toExclusive));
  // Title, description or location (search_text holds the three, accents removed).
  if (filter.search) conditions.push(sql`${events.searchText} ILIKE ${containsPattern(filter.search)}`);
  if (filter.location) conditions.push(unaccentedContains(events.location, containsPattern(filter.location)));
  if (filter.categoryId) conditions.push(eq(events.categoryId, filter.categoryId));
  if (filter.organizerId) conditions.push(eq(events.organizerId, filter.organizerId));
  if (filter.sellingOutSoon !== undefined) conditions.push(filter.sellingOutSoon ? sellingOutSoon : sql`NOT ${sellingOutSoon}`);
  if (filter.hasSeats !== undefined) conditions.push(filter.hasSeats ? sql`${ticketsRemaining} > 0` : sql`${ticketsRemaining} = 0`);
  return and(...conditions);
}

/** Every ordering ends with the id, so pages never overlap or skip rows that tie. */
const orderings: Record<Ordering, SQL[]> = {
  date_time: [asc(events.dateTime), asc(events.id)],
  '-date_time': [desc(events.dateTime), desc(events.id)],
  created_at: [asc(events.createdAt), asc(events.id)],
  '-created_at': [desc(events.createdAt), desc(events.id)],
  title: [asc(events.title), asc(events.dateTime), asc(events.id)],
  tickets_remaining: [asc(ticketsRemaining), asc(events.dateTime), asc(events.id)],
};

export async function listEvents(
  db: Db,
  filter: EventFilter,
  ordering: Ordering,
  limit: number,
  offset: number,
  knownTotal?: number,
): Promise<{ rows: EventRow[]; total: number }> {
  const where = whereClause(filter);
  if (knownTotal !== undefined) {
    const rows = await executeByShape(
      'events_page',
      db
        .select()
        .from(events)
        .where(where)
        .orderBy(...orderings[ordering])
        .limit(limit)
        .offset(offset),
    );
    return { rows, total: knownTotal };
  }
  // The exact count rides along as an uncorrelated subquery (computed once): one statement instead of two.
  const page = await executeByShape(
    'events_page_counted',
    db
      .select({ event: events, total: sql<number>`(select count(*) from ${events} where ${where ?? sql`true`})`.mapWith(Number) })
      .from(events)
      .where(where)
      .orderBy(...orderings[ordering])
      .limit(limit)
      .offset(offset),
  );
  if (page.length > 0) return { rows: page.map((r) => r.event), total: page[0]!.total };
  // Past the last page (or nothing matches): no row carried the count.
  const [total] = offset > 0 ? await db.select({ value: count() }).from(events).where(where) : [{ value: 0 }];
  return { rows: [], total: total!.value };
}

export async function countByOrganizer(db: Db, organizerId: string): Promise<number> {
  const [row] = await db.select({ value: count() }).from(events).where(eq(events.organizerId, organizerId));
  return row!.value;
}
