import type { FastifyBaseLogger } from 'fastify';
import type { SendMailOptions } from 'nodemailer';
import QRCode from 'qrcode';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import type { LinkSigner } from '../../lib/signed-tokens.js';
import { emailVerificationToken, passwordResetToken } from '../auth/account-tokens.js';
import { eventCalendar } from '../events/events.ics.js';
import type { DeliveryResult, OutboxChannel, OutboxRow } from '../outbox/outbox.service.js';
import * as repo from './mail.repository.js';
import { EMAIL_CHANNEL, preferenceOf, unsubscribeToken, type MailPayload, type NotificationMail } from './mail.service.js';
import { oneLine, templates, toHtml, toText, type Links, type MailContent, type MailTicket } from './mail.templates.js';
import type { MailTransport } from './mail.transport.js';

type Attachments = NonNullable<SendMailOptions['attachments']>;
type Built = { content: MailContent; attachments: Attachments } | { dropped: string };

/**
 * The email channel of the outbox: renders a queued mail from the current data and hands it to the transport.
 * Temporary failures (no connection, 4xx answers, authentication) are retried with back-off for about a day;
 * a permanent answer (5xx, e.g. an unknown mailbox) is recorded with the server's words.
 */
export function emailChannel(options: {
  config: Pick<Config, 'mailBaseUrl' | 'mailFrom'>;
  transport: MailTransport;
  signer: LinkSigner;
  log?: FastifyBaseLogger;
}): OutboxChannel {
  const { config, transport, signer, log } = options;
  const base = config.mailBaseUrl;
  const links: Links = {
    event: (id) => `${base}/app/events/${id}`,
    feedback: (id) => `${base}/app/events/${id}`,
  };
  const fromDomain = /@([^>\s]+)>?\s*$/.exec(config.mailFrom)?.[1] ?? 'localhost';

  async function build(db: Db, payload: MailPayload, username: string, email: string, now: Date): Promise<Built> {
    switch (payload.kind) {
      case 'password_reset': {
        const token = passwordResetToken(signer, payload.nonce);
        const url = `${base}/app/reset-password?token=${encodeURIComponent(token)}`;
        return { content: templates.password_reset({ username, url, token }), attachments: [] };
      }
      case 'email_verification': {
        // A verification for an address the user has since changed would prove nothing: its token would fail.
        if (payload.email.toLowerCase() !== email.toLowerCase()) return { dropped: 'the address changed before the mail went out' };
        const token = emailVerificationToken(signer, payload.userId, email, now);
        const url = `${base}/app/verify-email?token=${encodeURIComponent(token)}`;
        return { content: templates.email_verification({ username, url, token }), attachments: [] };
      }
      default:
        return buildEventMail(db, payload, username, now);
    }
  }

  async function buildEventMail(db: Db, mail: NotificationMail, username: string, now: Date): Promise<Built> {
    const event = await repo.findEvent(db, mail.eventId);
    if (!event) return { dropped: 'the event no longer exists' };
    const calendar = (): Attachments => [
      {
        filename: 'event.ics',
        content: eventCalendar(event, now),
        contentType: 'text/calendar; charset=utf-8; method=PUBLISH',
      },
    ];
    switch (mail.kind) {
      case 'registered':
      case 'promoted':
      case 'event_reminder': {
        const registration = await repo.findLatestRegistration(db, mail.userId, mail.eventId);
        // Cancelled before the mail went out: the cancellation mail tells the rest.
        if (registration?.status !== 'registered') return { dropped: 'the registration is no longer registered' };
        const tickets: MailTicket[] = registration.tickets.map((t) => ({ ...t, qrCid: `ticket-${t.seat}@${fromDomain}` }));
        const images: Attachments = await Promise.all(
          tickets.map(async (t) => ({
            filename: `ticket-${t.seat}.png`,
            content: await QRCode.toBuffer(t.code, { type: 'png', errorCorrectionLevel: 'M', margin: 2, scale: 6 }),
            contentType: 'image/png',
            cid: t.qrCid,
          })),
        );
        const params = { username, event, quantity: registration.quantity, tickets, links };
        const content = mail.kind === 'event_reminder' ? templates.event_reminder(params) : templates[mail.kind](params);
        return { content, attachments: [...images, ...calendar()] };
      }
      case 'waitlisted': {
        const registration = await repo.findLatestRegistration(db, mail.userId, mail.eventId);
        // Promoted already (the promotion mail follows) or cancelled.
        if (registration?.status !== 'waitlisted') return { dropped: 'the registration is no longer waitlisted' };
        const position = await repo.waitlistPosition(db, registration);
        return { content: templates.waitlisted({ username, event, quantity: registration.quantity, position, links }), attachments: [] };
      }
      case 'registration_cancelled':
        return { content: templates.registration_cancelled({ username, event, message: mail.message, links }), attachments: [] };
      case 'event_updated':
        return { content: templates.event_updated({ username, event, message: mail.message, links }), attachments: calendar() };
      case 'event_cancelled':
        return { content: templates.event_cancelled({ username, event, links }), attachments: calendar() };
      case 'feedback_request':
        return { content: templates.feedback_request({ username, event, links }), attachments: [] };
      case 'webhook_disabled':
        // In-app only: it names no event, so no mail is queued for it (mailsForNotifications).
        return { dropped: 'webhook notices are in-app only' };
    }
  }

  return {
    name: EMAIL_CHANNEL,
    retry: { baseMs: 30_000, maxMs: 2 * 3600_000, maxAttempts: 20 },
    async deliver(row: OutboxRow, { db, now }): Promise<DeliveryResult> {
      const payload = row.payload as unknown as MailPayload;
      const recipient = await repo.findRecipient(db, payload.userId);
      if (!recipient || !recipient.isActive) return { status: 'dropped', reason: 'the recipient no longer has an active account' };
      const preference = preferenceOf(payload.kind);
      const headers: Record<string, string> = {};
      let footer: MailContent['blocks'] = [];
      if (preference) {
        const preferences = await repo.findPreferences(db, recipient.id);
        const column = ({ reminders: 'reminders', feedback_requests: 'feedbackRequests', event_changes: 'eventChanges' } as const)[
          preference
        ];
        if (preferences && !preferences[column]) return { status: 'dropped', reason: `the recipient turned ${preference} off` };
        const url = `${base}/notifications/unsubscribe/?token=${encodeURIComponent(unsubscribeToken(signer, recipient.id, preference))}`;
        // RFC 8058: a POST to this URL with List-Unsubscribe=One-Click unsubscribes, without a page to confirm.
        headers['List-Unsubscribe'] = `<${url}>`;
        headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
        footer = [{ text: 'You get this mail because you registered for the event.' }, { link: { label: 'Stop these mails', url } }];
      }
      const built = await build(db, payload, recipient.username, recipient.email, now);
      if ('dropped' in built) return { status: 'dropped', reason: built.dropped };
      const message: SendMailOptions = {
        from: config.mailFrom,
        to: { name: oneLine(recipient.username), address: recipient.email },
        subject: oneLine(built.content.subject),
        // The same id on every attempt, so a mail sent again after a crash is recognisable as the same one.
        messageId: `<${row.id}@${fromDomain}>`,
        date: now,
        headers,
        text: toText(built.content, footer),
        html: toHtml(built.content, footer),
        attachments: built.attachments,
      };
      try {
        const { file } = await transport.send(message, `${now.toISOString().replace(/[:.]/g, '-')}-${payload.kind}-${row.id}`);
        if (file) log?.info({ file, to: recipient.email, kind: payload.kind }, 'mail written to a file (no SMTP_URL)');
        return { status: 'sent' };
      } catch (err) {
        return classify(err);
      }
    },
  };
}

/** Nodemailer's error as a delivery result: SMTP 5xx answers are permanent, anything else may pass later. */
function classify(err: unknown): DeliveryResult {
  const e = err as { responseCode?: number; response?: string; code?: string; message?: string };
  const answer = e.response ?? e.message ?? String(err);
  if (e.code !== 'EAUTH' && typeof e.responseCode === 'number' && e.responseCode >= 500) {
    return { status: 'failed', error: `${e.code ?? 'SMTP'}: ${answer}` };
  }
  return { status: 'retry', error: `${e.code ?? 'error'}: ${answer}` };
}
