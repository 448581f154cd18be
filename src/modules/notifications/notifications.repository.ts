import { and, asc, count, desc, eq, gt, inArray, lte, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { arraysOf, coalescedReads } from '../../db/coalesce.js';
import { executeNamed, namedStatement, preparedPerDb } from '../../db/prepared.js';
import { versionItem, versionListOf } from '../../db/row-version-cache.js';
import type { WritePart } from '../../db/one-statement.js';
import { events, notifications, registrations, streamTickets } from '../../db/schema.js';

export type NotificationRow = typeof notifications.$inferSelect;
export type NewNotification = typeof notifications.$inferInsert;

/** Channel of the live stream: each payload is `<user_id>:<notification_id>`. */
export const NOTIFICATIONS_CHANNEL = 'notifications';

/**
 * Channel of organizers' live activity: each payload is `<organizer_id>:<event_id>`, announced in the transaction
 * that changed the event's registrations, check-ins or details (so only committed changes are announced).
 */
export const EVENT_ACTIVITY_CHANNEL = 'event_activity';

/** Announces activity on the events `eventIds` selects to their organizers' streams (delivered on commit). */
const announceActivity = (eventIds: SQL) =>
  sql`select pg_notify(${EVENT_ACTIVITY_CHANNEL}, e.organizer_id::text || ':' || e.id::text) from ${events} as e where e.id in (${eventIds})`;

/** A notification as written: `createdAt` is when its cause happened (orders batched together keep their own times). */
export type NotificationWrite = Pick<NewNotification, 'userId' | 'eventId' | 'kind' | 'message'> & { createdAt: Date };

/** A message to queue in the outbox for a notification, if that notification is written (see notificationsWrite). */
export interface NotificationMessage {
  channel: string;
  payload: Record<string, unknown>;
  /** The notification it belongs to. */
  of: { userId: string; eventId: string; kind: NotificationRow['kind'] };
}

/**
 * Inserts notifications, announces each on the live-stream channel and queues their outbox messages (mails), as one
 * part of a statement (db/one-statement.ts): the rows travel as JSON parameters, so the statement is planned once
 * per pooled connection. PostgreSQL delivers the announcements only if the transaction commits. A scheduled kind
 * (reminder, feedback request) that the user already has for the event is skipped, and so is its message: the
 * partial unique index makes those sends idempotent even across processes; other kinds never conflict. The
 * messages are due when the latest notification written happened; `queue` is the outbox's (outbox.service.ts).
 */
export function notificationsWrite(
  values: NotificationWrite[],
  messages: NotificationMessage[],
  queue: (select: SQL) => SQL,
): WritePart<NotificationRow[]> {
  const json = JSON.stringify(
    values.map((v) => ({
      user_id: v.userId,
      event_id: v.eventId ?? null,
      kind: v.kind,
      message: v.message,
      created_at: v.createdAt.toISOString(),
    })),
  );
  const messagesJson = JSON.stringify(
    messages.map((m) => ({ channel: m.channel, payload: m.payload, user_id: m.of.userId, event_id: m.of.eventId, kind: m.of.kind })),
  );
  return {
    key: 'notifications',
    ctes: [
      [
        'notified',
        sql`insert into ${notifications} (user_id, event_id, kind, message, created_at)
        select user_id, event_id, kind, message, created_at
        from json_to_recordset(${json}::json) as n(user_id uuid, event_id uuid, kind text, message text, created_at timestamptz)
        on conflict (user_id, event_id, kind) where kind in ('event_reminder', 'feedback_request') do nothing
        returning id, user_id, event_id, kind, message, is_read, created_at`,
      ],
      ['published', sql`select pg_notify(${NOTIFICATIONS_CHANNEL}, user_id::text || ':' || id::text) from notified`],
      // Whatever told a registrant about an event (registered, waitlisted, promoted, cancelled) moved its numbers.
      ['announced', announceActivity(sql`select event_id from notified`)],
      [
        'notification_messages',
        queue(
          sql`select m.channel, m.payload, (select max(created_at) from notified)
          from json_to_recordset(${messagesJson}::json) as m(channel text, payload jsonb, user_id uuid, event_id uuid, kind text)
          where exists (select 1 from notified as n where n.user_id = m.user_id and n.event_id = m.event_id and n.kind = m.kind)`,
        ),
      ],
    ],
    answer: sql`json_build_array(
      (select coalesce(json_agg(json_build_array(id, user_id, event_id, kind, message, is_read, created_at)), '[]') from notified),
      (select count(*) from published),
      (select count(*) from announced))`,
    read: (text) => {
      type Written = [string, string, string | null, NotificationRow['kind'], string, boolean, string];
      const [rows] = JSON.parse(text) as [Written[], number];
      return rows.map(([id, userId, eventId, kind, message, isRead, createdAt]) => ({
        id,
        userId,
        eventId,
        kind,
        message,
        isRead,
        createdAt: new Date(createdAt),
      }));
    },
  };
}

/** Announces activity on the events to their organizers' live streams, when the transaction commits. */
export async function announceEventActivity(db: Db, eventIds: string[]): Promise<void> {
  if (eventIds.length === 0) return;
  await executeNamed(db, 'announce_event_activity', announceActivity(sql`select unnest(${`{${eventIds.join(',')}}`}::uuid[])`));
}

/** Users holding a registration of one of `statuses` for the event, each once. */
export async function findRegistrantIds(db: Db, eventId: string, statuses: ('registered' | 'waitlisted')[]): Promise<string[]> {
  const rows = await db
    .selectDistinct({ userId: registrations.userId })
    .from(registrations)
    .where(and(eq(registrations.eventId, eventId), inArray(registrations.status, statuses)));
  return rows.map((row) => row.userId);
}

/**
 * A user's notifications, all or only the read or unread ones (`isRead` null: all), newest first, one page: the
 * statements below share it.
 */
const userPageWhereOf = (userId: SQL | ReturnType<typeof sql.placeholder>, isRead: SQL | ReturnType<typeof sql.placeholder>) =>
  and(eq(notifications.userId, userId), sql`(${isRead}::boolean is null or ${notifications.isRead} = ${isRead}::boolean)`)!;
const userPageWhere = userPageWhereOf(sql.placeholder('userId'), sql.placeholder('isRead'));
const userPageOrder = [desc(notifications.createdAt), desc(notifications.id)];

// One page of a user's notifications and their total, in one prepared statement (the total rides along on each row).
const notificationsPage = preparedPerDb((db) =>
  db
    .select({ notification: notifications, total: sql<number>`count(*) over ()`.mapWith(Number) })
    .from(notifications)
    .where(userPageWhere)
    .orderBy(...userPageOrder)
    .limit(sql.placeholder('limit'))
    .offset(sql.placeholder('offset'))
    .prepare('notifications_page'),
);

/**
 * Users' pages as ids and row versions only, each as one text (versionListOf; notificationJsonByVersion in the service
 * holds their JSON), with its total; one row per ask (its user, read filter, limit and offset), in their order. One row
 * of two values: 50 rows, each carrying a window count over all the user's notifications, cost PostgreSQL about twice
 * as much (pgbench) and Node their parsing. The pages asked for at once are read by one statement (coalescedReads).
 */
const askedPageWhere = userPageWhereOf(sql`ask.user_id`, sql`ask.is_read`);
const notificationsPagesVersions = namedStatement<{ list: string; total: number }>(
  'notifications_pages_versions',
  sql`select (select count(*) from ${notifications} where ${askedPageWhere})::int as total,
      ${versionListOf(
        sql`select ${versionItem(sql`${notifications.id}`, sql`${notifications}.xmin::text`)} from ${notifications}
            where ${askedPageWhere} order by ${sql.join(userPageOrder, sql`, `)} limit ask.lim offset ask.off`,
      )} as list
    from unnest(${sql.placeholder('userId')}::uuid[], ${sql.placeholder('isRead')}::boolean[], ${sql.placeholder('limit')}::bigint[],
      ${sql.placeholder('offset')}::bigint[]) with ordinality as ask(user_id, is_read, lim, off, n)
    order by ask.n`,
);
type PageAsk = { userId: string; isRead: boolean | null; limit: number; offset: number };
const pagesVersions = coalescedReads<PageAsk, { list: string; total: number }>(
  (db, _key, asks) => notificationsPagesVersions(db, arraysOf(asks)),
  64,
);

/** A page of the user's notifications as a version list (versionListOf), and the total of their list. */
export async function pageVersionsForUser(
  db: Db,
  userId: string,
  filters: { isRead?: boolean },
  limit: number,
  offset: number,
): Promise<{ list: string; total: number }> {
  return pagesVersions(db, 'notification pages', { userId, isRead: filters.isRead ?? null, limit, offset });
}

const notificationsByIds = preparedPerDb((db) =>
  db
    .select({ notification: notifications, version: sql<string>`${notifications}.xmin::text` })
    .from(notifications)
    .where(sql`${notifications.id} = any(${sql.placeholder('ids')}::uuid[])`)
    .prepare('notifications_by_ids'),
);

/** Notifications by id, with their row versions; of any user (the caller listed them for one). */
export async function findByIdsWithVersions(db: Db, ids: string[]): Promise<Array<{ notification: NotificationRow; version: string }>> {
  return notificationsByIds(db).execute({ ids });
}

export async function listForUser(
  db: Db,
  userId: string,
  filters: { isRead?: boolean },
  limit: number,
  offset: number,
): Promise<{ rows: NotificationRow[]; total: number }> {
  const page = await notificationsPage(db).execute({ userId, isRead: filters.isRead ?? null, limit, offset });
  if (page.length > 0) return { rows: page.map((row) => row.notification), total: page[0]!.total };
  // Past the last page (or nothing at all): no row carried the total.
  const where = and(eq(notifications.userId, userId), filters.isRead === undefined ? undefined : eq(notifications.isRead, filters.isRead));
  const [total] = offset > 0 ? await db.select({ value: count() }).from(notifications).where(where) : [{ value: 0 }];
  return { rows: [], total: total!.value };
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
  return db.select().from(notifications).where(inArray(notifications.id, ids)).orderBy(asc(notifications.createdAt), asc(notifications.id));
}

/** The user's notifications after a stream position `(created_at, id)`, oldest first. */
export async function listAfter(db: Db, userId: string, after: { createdAt: Date; id: string }, limit: number): Promise<NotificationRow[]> {
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
  const rows = await db.delete(streamTickets).where(lte(streamTickets.expiresAt, now)).returning({ tokenHash: streamTickets.tokenHash });
  return rows.length;
}
