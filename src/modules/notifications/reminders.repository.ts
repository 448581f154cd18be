import { and, eq, gt, isNull, lte, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { events, jobs } from '../../db/schema.js';

export type EventRow = typeof events.$inferSelect;

/** SQL for the job key of an event's scheduled notification: `<kind>:<event id>`. */
const jobKeyFor = (kind: string) => sql`${kind} || ':' || ${events.id}::text`;
const noJobYet = (kind: string) => sql`NOT EXISTS (SELECT 1 FROM ${jobs} WHERE ${jobs.key} = ${jobKeyFor(kind)})`;

/**
 * Events not cancelled (published or not: an unpublished event still takes place) starting within `leadMs` from
 * now that have no reminder job yet. Reads the partial date_time index of events not cancelled, so it stays cheap
 * however many events lie further ahead.
 */
export async function findEventsDueForReminder(db: Db, now: Date, leadMs: number, limit: number) {
  return db
    .select({ id: events.id, dateTime: events.dateTime })
    .from(events)
    .where(
      and(
        isNull(events.cancelledAt),
        gt(events.dateTime, now),
        lte(events.dateTime, new Date(now.getTime() + leadMs)),
        noJobYet('event_reminder'),
      ),
    )
    .limit(limit);
}

/**
 * Events not cancelled that started within `lookbackMs` and have ended (end_time, or date_time + `defaultDurationMs`
 * when it has none), without a feedback-request job yet.
 */
export async function findEventsDueForFeedbackRequest(
  db: Db,
  now: Date,
  defaultDurationMs: number,
  lookbackMs: number,
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
        noJobYet('feedback_request'),
      ),
    )
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
