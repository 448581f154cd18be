import { and, eq, lt } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { idempotencyKeys } from '../../db/schema.js';

export type IdempotencyKeyRow = typeof idempotencyKeys.$inferSelect;

/** Inserts the key unless the user already holds it; undefined means someone got there first. */
export async function insertKeyIfAbsent(
  db: Db,
  values: { userId: string; key: string; fingerprint: string; createdAt: Date },
): Promise<IdempotencyKeyRow | undefined> {
  const [row] = await db
    .insert(idempotencyKeys)
    .values({ ...values, status: 'in_progress' })
    .onConflictDoNothing()
    .returning();
  return row;
}

export async function findKey(db: Db, userId: string, key: string): Promise<IdempotencyKeyRow | undefined> {
  const [row] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key)))
    .limit(1);
  return row;
}

/** Takes over an in-progress key whose owner never finished (a crashed process), if nobody else did meanwhile. */
export async function takeOverKey(db: Db, row: IdempotencyKeyRow, now: Date): Promise<IdempotencyKeyRow | undefined> {
  const [taken] = await db
    .update(idempotencyKeys)
    .set({ createdAt: now })
    .where(
      and(
        eq(idempotencyKeys.userId, row.userId),
        eq(idempotencyKeys.key, row.key),
        eq(idempotencyKeys.status, 'in_progress'),
        eq(idempotencyKeys.createdAt, row.createdAt),
      ),
    )
    .returning();
  return taken;
}

export async function completeKey(db: Db, userId: string, key: string, responseCode: number, responseBody: unknown): Promise<void> {
  await db
    .update(idempotencyKeys)
    .set({ status: 'completed', responseCode, responseBody })
    .where(and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key)));
}

export async function deleteKey(db: Db, userId: string, key: string): Promise<void> {
  await db.delete(idempotencyKeys).where(and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key)));
}

/**
 * Makes an expired key (older than the 24 h it is kept) new again for another request, as if it had been deleted
 * and inserted; undefined when a concurrent request renewed it first.
 */
export async function renewExpiredKey(
  db: Db,
  row: IdempotencyKeyRow,
  fingerprint: string,
  now: Date,
): Promise<IdempotencyKeyRow | undefined> {
  const [renewed] = await db
    .update(idempotencyKeys)
    .set({ fingerprint, status: 'in_progress', responseCode: null, responseBody: null, createdAt: now })
    .where(and(eq(idempotencyKeys.userId, row.userId), eq(idempotencyKeys.key, row.key), eq(idempotencyKeys.createdAt, row.createdAt)))
    .returning();
  return renewed;
}

export async function deleteKeysBefore(db: Db, cutoff: Date): Promise<number> {
  const rows = await db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, cutoff)).returning({ key: idempotencyKeys.key });
  return rows.length;
}
