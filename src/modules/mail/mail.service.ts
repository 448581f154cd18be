import type { Db } from '../../db/client.js';
import type { NotificationKind } from '../../db/schema.js';
import type { LinkSigner } from '../../lib/signed-tokens.js';
import { enqueue } from '../outbox/outbox.service.js';
import * as repo from './mail.repository.js';

/** The outbox channel of mails. */
export const EMAIL_CHANNEL = 'email';

/** A mail caused by an in-app notification: the same kind, recipient and event. */
export interface NotificationMail {
  kind: NotificationKind;
  userId: string;
  eventId: string;
  /** The notification's text (says what changed, for event changes; who cancelled, for cancellations). */
  message: string;
}
export interface PasswordResetMail {
  kind: 'password_reset';
  userId: string;
  /** The reset token is derived from this and the server secret when the mail is sent (see password-reset). */
  nonce: string;
}
export interface VerificationMail {
  kind: 'email_verification';
  userId: string;
  email: string;
}
export type MailPayload = NotificationMail | PasswordResetMail | VerificationMail;

/** Queues mails in the caller's transaction: they are sent if and only if it commits. */
export async function queueMails(db: Db, mails: MailPayload[], now: Date): Promise<void> {
  await enqueue(
    db,
    mails.map((payload) => ({ channel: EMAIL_CHANNEL, payload: { ...payload } })),
    now,
  );
}

/** Notifications that also go out by mail: every kind does, when it names an event. */
export function mailsForNotifications(
  rows: Array<{ userId: string; eventId: string | null; kind: NotificationKind; message: string }>,
): Array<{ channel: typeof EMAIL_CHANNEL; payload: NotificationMail }> {
  return rows
    .filter((row): row is typeof row & { eventId: string } => row.eventId !== null)
    .map((row) => ({
      channel: EMAIL_CHANNEL,
      payload: { kind: row.kind, userId: row.userId, eventId: row.eventId, message: row.message },
    }));
}

// ---- Preferences ------------------------------------------------------------------------------------------

/** The mails a user may turn off, by preference; every other mail (confirmations, cancellations) always goes. */
export const OPTIONAL_KINDS = {
  event_reminder: 'reminders',
  feedback_request: 'feedback_requests',
  event_updated: 'event_changes',
} as const satisfies Partial<Record<NotificationKind, string>>;
export type Preference = (typeof OPTIONAL_KINDS)[keyof typeof OPTIONAL_KINDS];
export const PREFERENCES = Object.values(OPTIONAL_KINDS) as Preference[];

export type Preferences = Record<Preference, boolean>;

const COLUMNS = { reminders: 'reminders', feedback_requests: 'feedbackRequests', event_changes: 'eventChanges' } as const;

export function preferenceOf(kind: string): Preference | undefined {
  return (OPTIONAL_KINDS as Record<string, Preference>)[kind];
}

export async function getPreferences(db: Db, userId: string): Promise<Preferences> {
  const row = await repo.findPreferences(db, userId);
  return {
    reminders: row?.reminders ?? true,
    feedback_requests: row?.feedbackRequests ?? true,
    event_changes: row?.eventChanges ?? true,
  };
}

export async function setPreferences(db: Db, userId: string, changes: Partial<Preferences>, now: Date): Promise<Preferences> {
  const values: Partial<Record<(typeof COLUMNS)[Preference], boolean>> = {};
  for (const key of PREFERENCES) if (changes[key] !== undefined) values[COLUMNS[key]] = changes[key];
  await repo.upsertPreferences(db, userId, values, now);
  return getPreferences(db, userId);
}

// ---- One-click unsubscribe (RFC 8058) ----------------------------------------------------------------------

const UNSUBSCRIBE = 'unsubscribe';

/** A token that turns one kind of mail off for one user; it does not expire (links in old mails keep working). */
export const unsubscribeToken = (signer: LinkSigner, userId: string, preference: Preference) =>
  signer.sign(UNSUBSCRIBE, [userId, preference]);

export function readUnsubscribeToken(signer: LinkSigner, token: string): { userId: string; preference: Preference } | undefined {
  const parts = signer.verify(UNSUBSCRIBE, token, 2);
  if (!parts || !(PREFERENCES as string[]).includes(parts[1]!)) return undefined;
  return { userId: parts[0]!, preference: parts[1] as Preference };
}

export async function unsubscribe(db: Db, signer: LinkSigner, token: string, now: Date) {
  const target = readUnsubscribeToken(signer, token);
  if (!target || !(await repo.findRecipient(db, target.userId))) return undefined;
  await setPreferences(db, target.userId, { [target.preference]: false }, now);
  return target;
}
