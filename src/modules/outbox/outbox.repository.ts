import { and, asc, eq, inArray, isNull, lt, lte, notExists, or, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Db } from '../../db/client.js';
import { outbox } from '../../db/schema.js';

export type OutboxRow = typeof outbox.$inferSelect;
export type NewOutboxRow = typeof outbox.$inferInsert;

// Keeps one INSERT well under PostgreSQL's 65,535 bind parameters.
const INSERT_CHUNK = 1_000;

/**
 * A common table expression (for db/one-statement.ts) that queues the messages `select` yields, as rows of
 * (channel, payload, due): for a statement that writes messages together with their cause, in one round trip.
 */
export function queueSelectedCte(select: SQL): SQL {
  return sql`insert into ${outbox} (channel, payload, next_attempt_at, created_at, updated_at)
    select q.channel, q.payload, q.due, q.due, q.due from (${select}) as q(channel, payload, due)
    returning id`;
}

/** Queues messages; one whose dedupe key is already queued (or was sent) is skipped. Returns the queued rows. */
export async function insertMessages(db: Db, values: NewOutboxRow[]): Promise<OutboxRow[]> {
  const rows: OutboxRow[] = [];
  for (let i = 0; i < values.length; i += INSERT_CHUNK) {
    rows.push(
      ...(await db
        .insert(outbox)
        .values(values.slice(i, i + INSERT_CHUNK))
        .onConflictDoNothing({ target: outbox.dedupeKey })
        .returning()),
    );
  }
  return rows;
}

/**
 * Claims up to `limit` due messages of the given channels for one worker: the rows are locked with SKIP LOCKED
 * (a concurrent worker takes others, never these) and leased until `leaseUntil` by moving their due time, all in
 * one statement, so the lock is held only for that statement and the delivery itself runs outside any
 * transaction. A worker that dies mid-delivery leaves its rows to come due again when the lease ends.
 */
export async function claimDue(
  db: Db,
  channels: string[],
  now: Date,
  leaseUntil: Date,
  claimToken: string,
  limit: number,
): Promise<OutboxRow[]> {
  const earlier = alias(outbox, 'earlier');
  const due = db
    .select({ id: outbox.id })
    .from(outbox)
    .where(
      and(
        eq(outbox.status, 'pending'),
        lte(outbox.nextAttemptAt, now),
        inArray(outbox.channel, channels),
        // In order per ordering key: only the oldest pending message of a key may go (a claimed one stays pending
        // until it is settled, so its successors wait for it, in this worker and in every other).
        or(
          isNull(outbox.orderingKey),
          notExists(
            db
              .select({ one: sql`1` })
              .from(earlier)
              .where(
                and(
                  eq(earlier.orderingKey, outbox.orderingKey),
                  eq(earlier.status, 'pending'),
                  sql`(${earlier.createdAt}, ${earlier.id}) < (${outbox.createdAt}, ${outbox.id})`,
                ),
              ),
          ),
        ),
      ),
    )
    .orderBy(asc(outbox.nextAttemptAt))
    .limit(limit)
    .for('update', { skipLocked: true });
  return db
    .update(outbox)
    .set({ nextAttemptAt: leaseUntil, claimToken, attempts: sql`${outbox.attempts} + 1`, updatedAt: now })
    .where(inArray(outbox.id, due))
    .returning();
}

/**
 * Records the outcome of a delivery, if the worker still holds the message (its claim token): a worker whose lease
 * ran out while it was delivering does not overwrite the outcome of the worker that took the message over.
 */
export async function settle(
  db: Db,
  id: string,
  claimToken: string,
  values: Partial<Pick<NewOutboxRow, 'status' | 'lastError' | 'nextAttemptAt' | 'finishedAt'>>,
  now: Date,
): Promise<boolean> {
  const rows = await db
    .update(outbox)
    .set({ ...values, claimToken: null, updatedAt: now })
    .where(and(eq(outbox.id, id), eq(outbox.claimToken, claimToken), eq(outbox.status, 'pending')))
    .returning({ id: outbox.id });
  return rows.length > 0;
}

/** Puts a finished message back in the queue, due at once (a redelivery asked for by a person). */
export async function requeue(db: Db, id: string, now: Date): Promise<OutboxRow | undefined> {
  const [row] = await db
    .update(outbox)
    .set({ status: 'pending', nextAttemptAt: now, attempts: 0, claimToken: null, finishedAt: null, updatedAt: now })
    .where(and(eq(outbox.id, id), inArray(outbox.status, ['sent', 'failed', 'dropped'])))
    .returning();
  return row;
}

export async function deleteFinishedBefore(db: Db, cutoff: Date): Promise<number> {
  const rows = await db
    .delete(outbox)
    .where(and(inArray(outbox.status, ['sent', 'dropped']), lt(outbox.finishedAt, cutoff)))
    .returning({ id: outbox.id });
  return rows.length;
}

/** Lets a message's successors go before it (it keeps its own retries): for channels ordered only while healthy. */
export async function clearOrderingKey(db: Db, id: string): Promise<void> {
  await db.update(outbox).set({ orderingKey: null }).where(eq(outbox.id, id));
}

export async function findByIds(db: Db, ids: string[]): Promise<OutboxRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(outbox).where(inArray(outbox.id, ids));
}
