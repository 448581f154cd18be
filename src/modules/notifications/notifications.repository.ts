import { and, asc, count, desc, eq, gt, inArray, lte, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { notifications, registrations, streamTickets } from '../../db/schema.js';

export type NotificationRow = typeof notifications.$inferSelect;
export type NewNotification = typeof notifications.$inferInsert;

/** Channel of the live stream: each payload is `<user_id>:<notification_id>`. */
export const NOTIFICATIONS_CHANNEL = 'notifications';

// Keeps one INSERT well under PostgreSQL's 65,535 bind parameters, whatever the number of registrants.
const INSERT_CHUNK = 1_000;

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Inserts notifications and announces them on the live-stream channel in the same statement (one round trip: the
 * registration rush calls this while holding the event's row lock). PostgreSQL delivers the messages only if the
 * transaction commits.
 */
export async function insertAndPublishNotifications(db: Db, values: NewNotification[]): Promise<NotificationRow[]> {
  const rows: NotificationRow[] = [];
  for (const chunk of chunks(values, INSERT_CHUNK)) {
    const inserted = db.$with('inserted').as(db.insert(notifications).values(chunk).returning());
    const published = await db
      .with(inserted)
      .select({
        row: inserted._.selectedFields,
        notified: sql<string>`pg_notify(${NOTIFICATIONS_CHANNEL}, ${inserted.userId}::text || ':' || ${inserted.id}::text)::text`,
      })
      .from(inserted);
    rows.push(...published.map((p) => p.row));
  }
  return rows;
}

/**
 * For a statement that writes notifications beside its own changes, in the same round trip: the CTEs
 * `notified` (inserts `rows`) and `published` (announces each on the live-stream channel, as
 * insertAndPublishNotifications does). PostgreSQL runs a plain CTE only when it is read, so the statement must
 * select `publishedCount`.
 */
export function insertAndPublishCtes(rows: Array<NewNotification & { createdAt: Date }>): SQL {
  const json = JSON.stringify(
    rows.map((row) => ({
      user_id: row.userId,
      event_id: row.eventId ?? null,
      kind: row.kind,
      message: row.message,
      created_at: row.createdAt.toISOString(),
    })),
  );
  return sql`notified as (
      insert into ${notifications} (user_id, event_id, kind, message, created_at)
      select user_id, event_id, kind, message, created_at
      from json_to_recordset(${json}::json) as n(user_id uuid, event_id uuid, kind text, message text, created_at timestamptz)
      returning id, user_id
    ),
    published as (select pg_notify(${NOTIFICATIONS_CHANNEL}, user_id::text || ':' || id::text) from notified)`;
}

export const publishedCount = sql`(select count(*) from published)`;

/**
 * Inserts scheduled notifications (reminders, feedback requests) and skips users who already have one of that
 * kind for the event: the partial unique index makes the send idempotent even across processes.
 */
export async function insertScheduledNotifications(db: Db, values: NewNotification[]): Promise<NotificationRow[]> {
  const rows: NotificationRow[] = [];
  for (const chunk of chunks(values, INSERT_CHUNK)) {
    rows.push(
      ...(await db
        .insert(notifications)
        .values(chunk)
        .onConflictDoNothing({
          target: [notifications.userId, notifications.eventId, notifications.kind],
          where: sql`${notifications.kind} IN ('event_reminder', 'feedback_request')`,
        })
        .returning()),
    );
  }
  return rows;
}

/**
 * Announces new notifications on the live-stream channel. Called in the creating transaction, so PostgreSQL
 * delivers the messages only if it commits (and PGlite behaves the same).
 */
export async function publishNotifications(db: Db, rows: Pick<NotificationRow, 'id' | 'userId'>[]): Promise<void> {
  for (const chunk of chunks(rows, INSERT_CHUNK)) {
    const payloads = JSON.stringify(chunk.map((row) => `${row.userId}:${row.id}`));
    await db.execute(
      sql`SELECT pg_notify(${NOTIFICATIONS_CHANNEL}, payload) FROM json_array_elements_text(${payloads}::json) AS payload`,
    );
  }
}

/** Users holding a registration of one of `statuses` for the event, each once. */
export async function findRegistrantIds(
  db: Db,
  eventId: string,
  statuses: ('registered' | 'waitlisted')[],
): Promise<string[]> {
  const rows = await db
    .selectDistinct({ userId: registrations.userId })
    .from(registrations)
    .where(and(eq(registrations.eventId, eventId), inArray(registrations.status, statuses)));
  return rows.map((row) => row.userId);
}

export async function listForUser(
  db: Db,
  userId: string,
  filters: { isRead?: boolean },
  limit: number,
  offset: number,
): Promise<{ rows: NotificationRow[]; total: number }> {
  const where = and(
    eq(notifications.userId, userId),
    filters.isRead === undefined ? undefined : eq(notifications.isRead, filters.isRead),
  );
  const [rows, [total]] = await Promise.all([
    db
      .select()
      .from(notifications)
      .where(where)
      .orderBy(desc(notifications.createdAt), desc(notifications.id))
      .limit(limit)
      .offset(offset),
    db.select({ value: count() }).from(notifications).where(where),
  ]);
  return { rows, total: total!.value };
}

export async function countUnread(db: Db, userId: string): Promise<number> {
  const [row] = await db
    .select({ value: count() })
    .from(notifications)
    .where(and(eq(notifications.userId, userId), eq(notifications.isRead, false)));
  return row!.value;
}

export async function markRead(db: Db, userId: string, id: string): Promise<NotificationRow | undefined> {
  const [row] = await db
    .update(notifications)
    .set({ isRead: true })
    .where(and(eq(notifications.id, id), eq(notifications.userId, userId)))
    .returning();
  return row;
}

export async function markAllRead(db: Db, userId: string): Promise<number> {
  const rows = await db
    .update(notifications)
    .set({ isRead: true })
    .where(and(eq(notifications.userId, userId), eq(notifications.isRead, false)))
    .returning({ id: notifications.id });
  return rows.length;
}

export async function deleteForUser(db: Db, userId: string, id: string): Promise<boolean> {
  const rows = await db
    .delete(notifications)
    .where(and(eq(notifications.id, id), eq(notifications.userId, userId)))
    .returning({ id: notifications.id });
  return rows.length > 0;
}

export async function findByIds(db: Db, ids: string[]): Promise<NotificationRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(notifications)
    .where(inArray(notifications.id, ids))
    .orderBy(asc(notifications.createdAt), asc(notifications.id));
}

/** The user's notifications after a stream position `(created_at, id)`, oldest first. */
export async function listAfter(
  db: Db,
  userId: string,
  after: { createdAt: Date; id: string },
  limit: number,
): Promise<NotificationRow[]> {
  return db
    .select()
    .from(notifications)
    .where(
      and(
        eq(notifications.userId, userId),
        sql`(${notifications.createdAt}, ${notifications.id}) > (${after.createdAt.toISOString()}::timestamptz, ${after.id}::uuid)`,
      ),
    )
    .orderBy(asc(notifications.createdAt), asc(notifications.id))
    .limit(limit);
}

export async function insertStreamTicket(db: Db, values: typeof streamTickets.$inferInsert): Promise<void> {
  await db.insert(streamTickets).values(values);
}

/** Spends a ticket: it is deleted as it is read, so a second use (even a concurrent one) finds nothing. */
export async function consumeStreamTicket(db: Db, tokenHash: string, now: Date): Promise<string | undefined> {
  const [row] = await db
    .delete(streamTickets)
    .where(and(eq(streamTickets.tokenHash, tokenHash), gt(streamTickets.expiresAt, now)))
    .returning({ userId: streamTickets.userId });
  return row?.userId;
}

export async function deleteExpiredStreamTickets(db: Db, now: Date): Promise<number> {
  const rows = await db
    .delete(streamTickets)
    .where(lte(streamTickets.expiresAt, now))
    .returning({ tokenHash: streamTickets.tokenHash });
  return rows.length;
}
