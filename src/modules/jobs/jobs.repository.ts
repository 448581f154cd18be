import { and, asc, count, eq, inArray, lt, lte } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { jobs, type JobStatus } from '../../db/schema.js';

export type JobRow = typeof jobs.$inferSelect;
export type NewJob = typeof jobs.$inferInsert;

/** Inserts jobs whose key is new; an existing key (pending or finished) wins. Returns how many were added. */
export async function insertJobs(db: Db, values: NewJob[]): Promise<number> {
  if (values.length === 0) return 0;
  const rows = await db.insert(jobs).values(values).onConflictDoNothing({ target: jobs.key }).returning({ id: jobs.id });
  return rows.length;
}

/**
 * Locks the most overdue pending job for the calling transaction. SKIP LOCKED lets another process take the
 * next one instead of waiting, and never the same one: each job is handled by exactly one transaction.
 */
export async function claimDueJob(db: Db, now: Date): Promise<JobRow | undefined> {
  const [row] = await db
    .select()
    .from(jobs)
    .where(and(eq(jobs.status, 'pending'), lte(jobs.runAt, now)))
    .orderBy(asc(jobs.runAt))
    .limit(1)
    .for('update', { skipLocked: true });
  return row;
}

export async function finishJob(db: Db, id: string, status: Exclude<JobStatus, 'pending'>, now: Date): Promise<void> {
  await db.update(jobs).set({ status, finishedAt: now, updatedAt: now }).where(eq(jobs.id, id));
}

export async function deleteJob(db: Db, id: string): Promise<void> {
  await db.delete(jobs).where(eq(jobs.id, id));
}

export async function recordFailure(
  db: Db,
  id: string,
  values: { attempts: number; lastError: string; runAt: Date; failed: boolean },
  now: Date,
): Promise<void> {
  await db
    .update(jobs)
    .set({
      attempts: values.attempts,
      lastError: values.lastError,
      runAt: values.runAt,
      status: values.failed ? 'failed' : 'pending',
      finishedAt: values.failed ? now : null,
      updatedAt: now,
    })
    .where(and(eq(jobs.id, id), eq(jobs.status, 'pending')));
}

export async function deleteFinishedBefore(db: Db, cutoff: Date): Promise<number> {
  const rows = await db
    .delete(jobs)
    .where(and(inArray(jobs.status, ['done', 'dropped']), lt(jobs.finishedAt, cutoff)))
    .returning({ id: jobs.id });
  return rows.length;
}

/** The next pending jobs (soonest first) and how many are pending in all. */
export async function listPending(db: Db, limit: number): Promise<{ rows: JobRow[]; total: number }> {
  const [rows, [total]] = await Promise.all([
    db.select().from(jobs).where(eq(jobs.status, 'pending')).orderBy(asc(jobs.runAt), asc(jobs.id)).limit(limit),
    db.select({ value: count() }).from(jobs).where(eq(jobs.status, 'pending')),
  ]);
  return { rows, total: total!.value };
}
