import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../../db/client.js';
import type { NotificationKind, events } from '../../db/schema.js';
import { notFound } from '../../lib/errors.js';
import { writeInOneStatement, type WritePart } from '../../db/one-statement.js';
import { mailsForNotifications } from '../mail/mail.service.js';
import { queueSelectedCte } from '../outbox/outbox.service.js';
import { RowVersionCache, type PageJson } from '../../db/row-version-cache.js';
import * as repo from './notifications.repository.js';
import { toNotificationResponse } from './notifications.schemas.js';
import type { NotificationRow } from './notifications.repository.js';

export type { NotificationRow };
export type EventRow = typeof events.$inferSelect;

export interface NotificationInput {
  userId: string;
  eventId: string | null;
  kind: NotificationKind;
  message: string;
  /** When it happened, if not `now` (orders registered together in one batch keep their own times). */
  createdAt?: Date;
}

/**
 * Writes notifications in the caller's transaction: pass the transaction that made the change (a registration, a
 * promotion, a cancellation, a reminder job), so the notifications exist exactly when the change does. Open streams
 * receive them once it commits. Every notification the API sends is written here, and each one's mail is queued in
 * the outbox here, in the same statement (the outbox worker sends it once it commits). A reminder or feedback
 * request the user already has for that event is skipped (each is sent once), and so is its mail.
 */
export async function writeNotifications(db: Db, items: Array<NotificationInput & { createdAt: Date }>): Promise<NotificationRow[]> {
  if (items.length === 0) return [];
  const [rows] = await writeInOneStatement(db, [notificationsWrite(items)]);
  return rows;
}

/**
 * writeNotifications as one part of a larger statement (db/one-statement.ts), for a change that holds a hot lock
 * and writes its notifications in the same round trip as itself (a batch of registrations).
 */
export function notificationsWrite(items: Array<NotificationInput & { createdAt: Date }>): WritePart<NotificationRow[]> {
  const messages = mailsForNotifications(items).map((mail) => ({ channel: mail.channel, payload: { ...mail.payload }, of: mail.payload }));
  return repo.notificationsWrite(items, messages, queueSelectedCte);
}

/**
 * Tells the organizers' open streams (and staff's) that these events changed: their numbers or details are worth
 * reading again. Call it in the transaction of the change; writeNotifications does it for the events it writes about.
 */
export const announceEventActivity = (db: Db, eventIds: string[]): Promise<void> => repo.announceEventActivity(db, [...new Set(eventIds)]);

/** writeNotifications for changes made `now`, unless an item says when. */
export async function notify(db: Db, items: NotificationInput | NotificationInput[], now: Date): Promise<NotificationRow[]> {
  const list = Array.isArray(items) ? items : [items];
  return writeNotifications(
    db,
    list.map((item) => ({ ...item, createdAt: item.createdAt ?? now })),
  );
}

/** "2030-01-02 09:00 UTC": unambiguous for readers in any time zone. */
export function formatWhen(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export interface EventChanges {
  dateTime?: { from: Date; to: Date };
  location?: { from: string; to: string };
}

export function eventUpdatedMessage(event: Pick<EventRow, 'title'>, changes: EventChanges): string {
  const parts: string[] = [];
  if (changes.dateTime) {
    parts.push(`it now starts at ${formatWhen(changes.dateTime.to)} (was ${formatWhen(changes.dateTime.from)})`);
  }
  if (changes.location) parts.push(`it now takes place at ${changes.location.to} (was ${changes.location.from})`);
  return `The event "${event.title}" has been updated: ${parts.join('; ')}.`;
}

/**
 * Tells every live (registered or waitlisted) registrant that the event's date/time or location changed.
 * Call it in the transaction that updates the event; it does nothing when neither changed.
 */
export async function notifyEventChanged(
  db: Db,
  event: Pick<EventRow, 'id' | 'title'>,
  changes: EventChanges,
  now: Date,
): Promise<NotificationRow[]> {
  const dateChanged = changes.dateTime && changes.dateTime.from.getTime() !== changes.dateTime.to.getTime();
  const locationChanged = changes.location && changes.location.from !== changes.location.to;
  if (!dateChanged && !locationChanged) return [];
  const message = eventUpdatedMessage(event, {
    ...(dateChanged ? { dateTime: changes.dateTime } : {}),
    ...(locationChanged ? { location: changes.location } : {}),
  });
  return notifyLiveRegistrants(db, event.id, 'event_updated', message, now);
}

/**
 * Tells every live registrant that the event is cancelled (or deleted). Call it in the cancelling transaction
 * before the registrations are cancelled, since it reads who is still registered or waitlisted.
 */
export async function notifyEventCancelled(
  db: Db,
  event: Pick<EventRow, 'id' | 'title' | 'dateTime'>,
  now: Date,
): Promise<NotificationRow[]> {
  const message = `The event "${event.title}" on ${formatWhen(event.dateTime)} has been cancelled.`;
  return notifyLiveRegistrants(db, event.id, 'event_cancelled', message, now);
}

/** One notification to each user holding a registered or waitlisted registration for the event. */
async function notifyLiveRegistrants(db: Db, eventId: string, kind: NotificationKind, message: string, now: Date) {
  const userIds = await repo.findRegistrantIds(db, eventId, ['registered', 'waitlisted']);
  return notify(
    db,
    userIds.map((userId) => ({ userId, eventId, kind, message })),
    now,
  );
}

/**
 * Sends a scheduled notification (reminder, feedback request) to every registered attendee of the event who has
 * not had it yet. Safe to repeat and to race: the unique index lets each user get it once.
 */
export async function notifyRegisteredOnce(
  db: Db,
  eventId: string,
  kind: 'event_reminder' | 'feedback_request',
  message: string,
  now: Date,
): Promise<NotificationRow[]> {
  const userIds = await repo.findRegistrantIds(db, eventId, ['registered']);
  return notify(
    db,
    userIds.map((userId) => ({ userId, eventId, kind, message })),
    now,
  );
}

/** Up to 20,000 notifications' JSON per worker, by row version (db/row-version-cache.ts: never stale). */
const notificationJsonByVersion = new RowVersionCache(20_000, 10 * 60_000);

/**
 * A page of the user's notifications and their total, the page already written as a JSON array. The page's statement
 * reads ids and row versions only; the JSON of versions already seen is not read or written again.
 */
export async function listNotificationsJson(
  db: Db,
  userId: string,
  filters: { isRead?: boolean },
  limit: number,
  offset: number,
): Promise<PageJson> {
  const { list, total } = await repo.pageVersionsForUser(db, userId, filters, limit, offset);
  const resultsJson = await notificationJsonByVersion.resolveArray(db, list, async (ids) =>
    (await repo.findByIdsWithVersions(db, ids)).map(({ notification, version }) => ({
      id: notification.id,
      version,
      json: JSON.stringify(toNotificationResponse(notification)),
    })),
  );
  if (resultsJson) return { total, resultsJson, resultsKey: list };
  // A notification changed between the two reads: the page in one statement.
  const page = await repo.listForUser(db, userId, filters, limit, offset);
  return { total: page.total, resultsJson: JSON.stringify(page.rows.map(toNotificationResponse)) };
}

export const countUnread = repo.countUnread;

export async function markAsRead(db: Db, userId: string, id: string): Promise<NotificationRow> {
  const row = await repo.markRead(db, userId, id);
  if (!row) throw notFound();
  return row;
}

export const markAllAsRead = repo.markAllRead;

export async function deleteNotification(db: Db, userId: string, id: string): Promise<void> {
  if (!(await repo.deleteForUser(db, userId, id))) throw notFound();
}

export const STREAM_TICKET_TTL_SECONDS = 60;

const hashTicket = (ticket: string) => createHash('sha256').update(ticket).digest('hex');

/** A single-use ticket that opens the caller's stream within 60 seconds; only its hash is stored. */
export async function issueStreamTicket(db: Db, userId: string, now: Date): Promise<{ ticket: string; expiresAt: Date }> {
  const ticket = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + STREAM_TICKET_TTL_SECONDS * 1000);
  await repo.insertStreamTicket(db, { tokenHash: hashTicket(ticket), userId, expiresAt, createdAt: now });
  return { ticket, expiresAt };
}

/** The user a ticket was issued to, if it is unexpired and unused; using it spends it. */
export async function redeemStreamTicket(db: Db, ticket: string, now: Date): Promise<string | undefined> {
  return repo.consumeStreamTicket(db, hashTicket(ticket), now);
}

export const deleteExpiredStreamTickets = repo.deleteExpiredStreamTickets;
export const notificationsAfter = repo.listAfter;
export const notificationsByIds = repo.findByIds;
