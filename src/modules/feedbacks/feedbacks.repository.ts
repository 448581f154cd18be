import { and, count, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { events, feedbacks, registrations, users } from '../../db/schema.js';

export type FeedbackRow = typeof feedbacks.$inferSelect;
export type NewFeedback = typeof feedbacks.$inferInsert;

export async function findEvent(db: Db, id: string) {
  const [row] = await db
    .select({ id: events.id, title: events.title, dateTime: events.dateTime, endTime: events.endTime, cancelledAt: events.cancelledAt })
    .from(events)
    .where(eq(events.id, id));
  return row;
}

export async function hasRegisteredRegistration(db: Db, userId: string, eventId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: registrations.id })
    .from(registrations)
    .where(and(eq(registrations.userId, userId), eq(registrations.eventId, eventId), eq(registrations.status, 'registered')))
    .limit(1);
  return Boolean(row);
}

export async function insertFeedback(db: Db, values: NewFeedback): Promise<FeedbackRow> {
  const [row] = await db.insert(feedbacks).values(values).returning();
  return row!;
}

export async function findFeedback(db: Db, id: string): Promise<FeedbackRow | undefined> {
  const [row] = await db.select().from(feedbacks).where(eq(feedbacks.id, id));
  return row;
}

/** Locks the feedback row so concurrent edits and deletes of it apply one after the other. */
export async function findFeedbackForUpdate(db: Db, id: string): Promise<FeedbackRow | undefined> {
  const [row] = await db.select().from(feedbacks).where(eq(feedbacks.id, id)).for('update');
  return row;
}

export async function updateFeedback(
  db: Db,
  id: string,
  values: Pick<NewFeedback, 'rating' | 'comment' | 'updatedAt'>,
): Promise<FeedbackRow> {
  const [row] = await db.update(feedbacks).set(values).where(eq(feedbacks.id, id)).returning();
  return row!;
}

export async function deleteFeedback(db: Db, id: string): Promise<void> {
  await db.delete(feedbacks).where(eq(feedbacks.id, id));
}

/**
 * Moves the event's rating totals by a delta in one atomic UPDATE, so concurrent feedback on one event adds up
 * exactly without reading the totals first.
 */
export async function adjustEventRating(db: Db, eventId: string, sumDelta: number, countDelta: number): Promise<void> {
  await db
    .update(events)
    .set({ ratingSum: sql`${events.ratingSum} + ${sumDelta}`, ratingCount: sql`${events.ratingCount} + ${countDelta}` })
    .where(eq(events.id, eventId));
}

export interface FeedbackFilters {
  eventId?: string;
  userId?: string;
  rating?: number;
}

function feedbackWhere(filters: FeedbackFilters) {
  return and(
    filters.eventId ? eq(feedbacks.eventId, filters.eventId) : undefined,
    filters.userId ? eq(feedbacks.userId, filters.userId) : undefined,
    filters.rating ? eq(feedbacks.rating, filters.rating) : undefined,
  );
}

export async function listFeedbacksWithContext(db: Db, filters: FeedbackFilters, limit: number, offset: number) {
  const where = feedbackWhere(filters);
  const [rows, [total]] = await Promise.all([
    db
      .select({ feedback: feedbacks, eventTitle: events.title, username: users.username, userEmail: users.email })
      .from(feedbacks)
      .innerJoin(events, eq(events.id, feedbacks.eventId))
      .innerJoin(users, eq(users.id, feedbacks.userId))
      .where(where)
      .orderBy(desc(feedbacks.createdAt), desc(feedbacks.id))
      .limit(limit)
      .offset(offset),
    db.select({ value: count() }).from(feedbacks).where(where),
  ]);
  return { rows, total: total!.value };
}

export async function countByUser(db: Db, userId: string): Promise<number> {
  const [row] = await db.select({ value: count() }).from(feedbacks).where(eq(feedbacks.userId, userId));
  return row!.value;
}

export async function listFeedbacks(
  db: Db,
  filters: FeedbackFilters,
  limit: number,
  offset: number,
): Promise<{ rows: FeedbackRow[]; total: number }> {
  const where = feedbackWhere(filters);
  const [rows, [total]] = await Promise.all([
    db.select().from(feedbacks).where(where).orderBy(desc(feedbacks.createdAt), desc(feedbacks.id)).limit(limit).offset(offset),
    db.select({ value: count() }).from(feedbacks).where(where),
  ]);
  return { rows, total: total!.value };
}
