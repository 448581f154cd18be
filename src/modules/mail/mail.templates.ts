/**
 * The mails' words and layout. Pure: data in, subject + plain text + HTML out (no database, no network), so
 * every template is rendered the same in tests and in production. User-supplied text (event titles, places,
 * usernames) is escaped in the HTML part in one place (`toHtml`) and kept to one line in the subject.
 */

export type MailKind =
  | 'registered'
  | 'waitlisted'
  | 'promoted'
  | 'registration_cancelled'
  | 'event_updated'
  | 'event_cancelled'
  | 'event_reminder'
  | 'feedback_request'
  | 'password_reset'
  | 'email_verification';

export interface MailEvent {
  id: string;
  title: string;
  location: string;
  dateTime: Date;
  endTime: Date | null;
}

export interface MailTicket {
  code: string;
  seat: number;
  /** Content-ID of the ticket's QR image attached inline. */
  qrCid: string;
}

/** A paragraph, a link (a button in HTML) or the list of tickets with their QR codes. */
export type Block = { text: string } | { link: { label: string; url: string } } | { tickets: MailTicket[] };

export interface MailContent {
  subject: string;
  blocks: Block[];
}

/**
 * Events carry no time zone (the reference API has none), so a mail cannot know the event's local time: it says
 * UTC explicitly rather than guess, and the attached .ics lets the reader's calendar show it in their own zone.
 */
export function formatEventTime(date: Date): string {
  const formatted = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'UTC',
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(date);
  return `${formatted} UTC`;
}

const sameUtcDay = (a: Date, b: Date) => a.toISOString().slice(0, 10) === b.toISOString().slice(0, 10);
const until = (event: MailEvent) => {
  if (!event.endTime) return '';
  return sameUtcDay(event.dateTime, event.endTime)
    ? ` to ${event.endTime.toISOString().slice(11, 16)} UTC`
    : ` to ${formatEventTime(event.endTime)}`;
};
const when = (event: MailEvent) => `When: ${formatEventTime(event.dateTime)}${until(event)}`;
const where = (event: MailEvent) => `Where: ${event.location}`;
const seats = (quantity: number) => `${quantity} ${quantity === 1 ? 'seat' : 'seats'}`;

export interface Links {
  event: (eventId: string) => string;
  feedback: (eventId: string) => string;
}

export const templates = {
  registered: (p: { username: string; event: MailEvent; quantity: number; tickets: MailTicket[]; links: Links }): MailContent => ({
    subject: `Your tickets for ${p.event.title}`,
    blocks: [
      { text: `Hello ${p.username},` },
      { text: `You are registered for "${p.event.title}" with ${seats(p.quantity)}.` },
      { text: when(p.event) },
      { text: where(p.event) },
      { tickets: p.tickets },
      { text: 'Show a ticket code or its QR code at the entrance. The event is attached as a calendar file.' },
      { link: { label: 'View the event', url: p.links.event(p.event.id) } },
    ],
  }),
  promoted: (p: { username: string; event: MailEvent; quantity: number; tickets: MailTicket[]; links: Links }): MailContent => ({
    subject: `You got a seat: ${p.event.title}`,
    blocks: [
      { text: `Hello ${p.username},` },
      { text: `Seats became free and your order on the waiting list for "${p.event.title}" is now registered with ${seats(p.quantity)}.` },
      { text: when(p.event) },
      { text: where(p.event) },
      { tickets: p.tickets },
      { text: 'Show a ticket code or its QR code at the entrance. The event is attached as a calendar file.' },
      { link: { label: 'View the event', url: p.links.event(p.event.id) } },
    ],
  }),
  waitlisted: (p: { username: string; event: MailEvent; quantity: number; position: number | null; links: Links }): MailContent => ({
    subject: `You are on the waiting list: ${p.event.title}`,
    blocks: [
      { text: `Hello ${p.username},` },
      {
        text:
          `"${p.event.title}" is full, so your order for ${seats(p.quantity)} is on the waiting list` +
          (p.position ? `, at position ${p.position}.` : '.'),
      },
      { text: when(p.event) },
      {
        text:
          'What happens next: when seats free up, the waiting list is served in order, and an order is registered ' +
          'whole once all its seats are free. You will get another mail with your tickets then. You do not need to ' +
          'do anything; cancel your registration if you no longer want to come.',
      },
      { link: { label: 'View the event', url: p.links.event(p.event.id) } },
    ],
  }),
  registration_cancelled: (p: { username: string; event: MailEvent; message: string; links: Links }): MailContent => ({
    subject: `Registration cancelled: ${p.event.title}`,
    blocks: [{ text: `Hello ${p.username},` }, { text: p.message }, { text: 'Its tickets are no longer valid.' }, { text: when(p.event) }],
  }),
  event_updated: (p: { username: string; event: MailEvent; message: string; links: Links }): MailContent => ({
    subject: `Event changed: ${p.event.title}`,
    blocks: [
      { text: `Hello ${p.username},` },
      { text: p.message },
      { text: when(p.event) },
      { text: where(p.event) },
      { link: { label: 'View the event', url: p.links.event(p.event.id) } },
    ],
  }),
  event_cancelled: (p: { username: string; event: MailEvent; links: Links }): MailContent => ({
    subject: `Event cancelled: ${p.event.title}`,
    blocks: [
      { text: `Hello ${p.username},` },
      { text: `The event "${p.event.title}" on ${formatEventTime(p.event.dateTime)} has been cancelled by its organizer.` },
      { text: 'Your registration is cancelled and its tickets are no longer valid.' },
    ],
  }),
  event_reminder: (p: { username: string; event: MailEvent; tickets: MailTicket[]; links: Links }): MailContent => ({
    subject: `Starts soon: ${p.event.title}`,
    blocks: [
      { text: `Hello ${p.username},` },
      { text: `A reminder: "${p.event.title}" starts soon.` },
      { text: when(p.event) },
      { text: where(p.event) },
      { tickets: p.tickets },
      { link: { label: 'View the event', url: p.links.event(p.event.id) } },
    ],
  }),
  feedback_request: (p: { username: string; event: MailEvent; links: Links }): MailContent => ({
    subject: `How was ${p.event.title}?`,
    blocks: [
      { text: `Hello ${p.username},` },
      { text: `Thank you for coming to "${p.event.title}". Rate the event and tell the organizer what you thought.` },
      { link: { label: 'Leave feedback', url: p.links.feedback(p.event.id) } },
    ],
  }),
  password_reset: (p: { username: string; url: string; token: string }): MailContent => ({
    subject: 'Reset your password',
    blocks: [
      { text: `Hello ${p.username},` },
      { text: 'Someone (hopefully you) asked to reset the password of your account. The link works once, within one hour.' },
      { link: { label: 'Choose a new password', url: p.url } },
      { text: `Or send this token to POST /auth/password/reset/confirm/: ${p.token}` },
      { text: 'If you did not ask for this, ignore this mail: your password stays as it is.' },
    ],
  }),
  email_verification: (p: { username: string; url: string; token: string }): MailContent => ({
    subject: 'Confirm your email address',
    blocks: [
      { text: `Hello ${p.username},` },
      { text: 'Confirm that this address is yours by opening the link below (valid for 7 days).' },
      { link: { label: 'Confirm my email address', url: p.url } },
      { text: `Or send this token to POST /auth/email/verify/: ${p.token}` },
    ],
  }),
};

/** Header values are one line: CR, LF and other control characters become spaces (no header injection). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is matched here
export const oneLine = (value: string) => value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

function blockText(block: Block): string {
  if ('text' in block) return block.text;
  if ('link' in block) return `${block.link.label}: ${block.link.url}`;
  return block.tickets.map((t) => `Ticket ${t.seat}: ${t.code}`).join('\n');
}

/** The plain-text part; `footer` (why you get this mail, how to stop it) comes after a "--" line. */
export function toText(content: MailContent, footer: Block[] = []): string {
  const parts = content.blocks.map(blockText);
  return [...parts, ...(footer.length ? ['--', ...footer.map(blockText)] : [])].join('\n\n') + '\n';
}

function blockHtml(block: Block): string {
  if ('text' in block) return `<p>${escapeHtml(block.text)}</p>`;
  if ('link' in block) {
    return `<p><a href="${escapeHtml(block.link.url)}" style="display:inline-block;padding:8px 16px;background:#1d4ed8;color:#ffffff;text-decoration:none;border-radius:4px">${escapeHtml(block.link.label)}</a></p>`;
  }
  return block.tickets
    .map(
      (t) =>
        `<div style="margin:16px 0"><p style="margin:0"><strong>Ticket ${t.seat}</strong>: <code>${escapeHtml(t.code)}</code></p>` +
        `<img src="cid:${escapeHtml(t.qrCid)}" alt="QR code of ticket ${escapeHtml(t.code)}" width="200" height="200"></div>`,
    )
    .join('');
}

/** The HTML part: every piece of text goes through escapeHtml here, and nowhere else is HTML written. */
export function toHtml(content: MailContent, footer: Block[] = []): string {
  const foot = footer.map((block) => `<div style="color:#6b7280;font-size:12px">${blockHtml(block)}</div>`).join('');
  return (
    '<!doctype html><html><head><meta charset="utf-8"><title>' +
    escapeHtml(oneLine(content.subject)) +
    '</title></head><body style="font-family:sans-serif;line-height:1.5;color:#111827">' +
    content.blocks.map(blockHtml).join('') +
    (foot ? `<hr>${foot}` : '') +
    '</body></html>'
  );
}
