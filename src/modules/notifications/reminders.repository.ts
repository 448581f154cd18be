import { and, asc, eq, gt, isNull, lte, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { events } from '../../db/schema.js';

export type EventRow = typeof events.$inferSelect;

/**
 * Events not cancelled (published or not: an unpublished event still takes place) starting within `leadMs` from
 * now, a page at a time in id order (after `afterId`). Reads the partial date_time index of events not cancelled, so
 * it stays cheap however many events lie further ahead. Which of them already have their job is the scheduler's
 * business (scheduleJobs adds only new keys).
 */
export async function findEventsDueForReminder(db: Db, now: Date, leadMs: number, afterId: string | undefined, limit: number) {
  return db
    .select({ id: events.id, dateTime: events.dateTime })
    .from(events)
    .where(
      and(
        isNull(events.cancelledAt),
        gt(events.dateTime, now),
        lte(events.dateTime, new Date(now.getTime() + leadMs)),
        afterId ? gt(events.id, afterId) : undefined,
      ),
    )
    .orderBy(asc(events.id))
    .limit(limit);
}

/**
 * Events not cancelled that started within `lookbackMs` and have ended (end_time, or date_time + `defaultDurationMs`
 * when it has none), a page at a time in id order (after `afterId`).
 */
export async function findEventsDueForFeedbackRequest(
  db: Db,
  now: Date,
  defaultDurationMs: number,
  lookbackMs: number,
  afterId: string | undefined,
  limit: number,
) {
  const endsAt = sql`coalesce(${events.endTime}, ${events.dateTime} + make_interval(secs => ${defaultDurationMs / 1000}))`;
  return db
    .select({ id: events.id, dateTime: events.dateTime, endTime: events.endTime })
    .from(events)
    .where(
      and(
        isNull(events.cancelledAt),
        lte(events.dateTime, now),
        gt(events.dateTime, new Date(now.getTime() - lookbackMs)),
        sql`${endsAt} <= ${now.toISOString()}::timestamptz`,
        afterId ? gt(events.id, afterId) : undefined,
      ),
    )
    .orderBy(asc(events.id))
    .limit(limit);
}

/**
 * The event a job is about, share-locked until the job commits, so a concurrent edit of its time or a
 * registration waits instead of slipping between the check and the send.
 */
export async function findEventForJob(db: Db, id: string): Promise<EventRow | undefined> {
  const [row] = await db.select().from(events).where(eq(events.id, id)).for('share');
  return row;
}
