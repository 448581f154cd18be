import ICAL from 'ical.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../src/db/client.js';
import { outbox } from '../src/db/schema.js';
import { registerOrders } from '../src/modules/registrations/registrations.service.js';
import { deliverDue } from '../src/modules/outbox/outbox.service.js';
import { createMailTransport } from '../src/modules/mail/mail.transport.js';
import { emailChannel } from '../src/modules/mail/mail.channel.js';
import { createEvent, createOrganizer, createUser, registerFor, type TestUser } from './helpers/factories.js';
import { buildMailTestApp, decodeQr, outboxRows, qrImages, rawHeader, type MailContext } from './helpers/mail.js';

let ctx: MailContext;
let organizer: TestUser;
beforeAll(async () => {
  ctx = await buildMailTestApp();
  organizer = await createOrganizer(ctx.app);
});
afterAll(async () => ctx.close());

const HOUR = 3_600_000;

describe('registration mails through a real SMTP server', () => {
  it('a confirmation arrives once, to the user, with its headers, a QR code per ticket and the event as .ics', async () => {
    const user = await createUser(ctx.app);
    const event = await createEvent(ctx.app, organizer, { title: 'Lagos Tech Bootcamp', dateTime: new Date('2030-03-14T09:30:00Z') });
    const res = await registerFor(ctx.app, user, event.id, 2);
    expect(res.statusCode).toBe(201);
    const codes: string[] = res.json().ticket_instances.map((t: { code: string }) => t.code);

    const summary = await ctx.deliver();
    expect(summary).toMatchObject({ sent: 1, retried: 0, failed: 0 });
    const [mail, ...more] = ctx.smtp.to(user.email);
    expect(more).toEqual([]);
    expect(mail!.rcptTo).toEqual([user.email]);
    const { parsed } = mail!;
    expect(parsed.from?.value).toEqual([{ address: 'tickets@example.test', name: 'Event Tickets' }]);
    expect(parsed.to).toMatchObject({ value: [{ address: user.email, name: user.username }] });
    expect(parsed.subject).toBe('Your tickets for Lagos Tech Bootcamp');
    const [row] = await outboxRows(ctx);
    expect(parsed.messageId).toBe(`<${row!.id}@example.test>`);
    expect(row).toMatchObject({ status: 'sent', attempts: 1, lastError: null });
    // Confirmations cannot be turned off: no unsubscribe header.
    expect(rawHeader(parsed, 'List-Unsubscribe')).toBeUndefined();
    expect(parsed.text).toContain('with 2 seats');
    expect(parsed.text).toContain('Thursday, 14 March 2030 at 09:30 UTC');
    for (const code of codes) expect(parsed.text).toContain(code);
    expect(parsed.html).toContain(`https://tickets.example.test/app/events/${event.id}`);

    const images = qrImages(parsed.attachments);
    expect(images.map((a) => decodeQr(a.content)).sort()).toEqual([...codes].sort());
    for (const image of images) expect(parsed.html).toContain(`cid:${image.cid}`);

    const ics = parsed.attachments.find((a) => a.filename === 'event.ics')!;
    expect(ics.contentType).toBe('text/calendar');
    const calendar = new ICAL.Component(ICAL.parse(ics.content.toString('utf8')));
    expect(calendar.getFirstPropertyValue('method')).toBe('PUBLISH');
    const vevent = new ICAL.Event(calendar.getFirstSubcomponent('vevent')!);
    expect(vevent.summary).toBe('Lagos Tech Bootcamp');
    expect(vevent.startDate.toJSDate().toISOString()).toBe('2030-03-14T09:30:00.000Z');

    expect(await ctx.deliver()).toMatchObject({ sent: 0 });
    expect(ctx.smtp.to(user.email)).toHaveLength(1);
  });

  it('a rolled-back registration queues and sends nothing', async () => {
    const user = await createUser(ctx.app);
    const event = await createEvent(ctx.app, organizer);
    const before = (await outboxRows(ctx)).length;
    await expect(
      ctx.app.db.transaction(async (tx) => {
        const [outcome] = await registerOrders(tx, event.id, [{ user, quantity: 1, now: ctx.clock.now() }]);
        expect(outcome!.ok).toBe(true);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await outboxRows(ctx)).length).toBe(before);
    await ctx.deliver();
    expect(ctx.smtp.to(user.email)).toEqual([]);
  });

  it('waitlisted, then promoted with tickets, then cancelled: each mail says what happened', async () => {
    const event = await createEvent(ctx.app, organizer, { capacity: 1, title: 'Small room' });
    const [first, second] = [await createUser(ctx.app), await createUser(ctx.app)];
    const held = await registerFor(ctx.app, first, event.id, 1);
    expect((await registerFor(ctx.app, second, event.id, 1)).json().status).toBe('waitlisted');
    await ctx.deliver();
    const waitlisted = ctx.smtp.to(second.email)[0]!.parsed;
    expect(waitlisted.subject).toBe('You are on the waiting list: Small room');
    expect(waitlisted.text).toContain('at position 1');
    expect(waitlisted.text).toContain('What happens next');

    const cancel = await ctx.app.inject({ method: 'POST', url: `/registrations/${held.json().id}/cancel/`, headers: first.auth });
    expect(cancel.statusCode).toBe(200);
    await ctx.deliver();
    expect(ctx.smtp.to(first.email).map((m) => m.parsed.subject)).toEqual([
      'Your tickets for Small room',
      'Registration cancelled: Small room',
    ]);
    const promoted = ctx.smtp.to(second.email)[1]!.parsed;
    expect(promoted.subject).toBe('You got a seat: Small room');
    const [code] = (await ctx.app.inject({ method: 'GET', url: '/registrations/mine/', headers: second.auth })).json().results[0]
      .ticket_instances;
    expect(qrImages(promoted.attachments).map((a) => decodeQr(a.content))).toEqual([code.code]);
  });

  it('an event title with <script> and CRLF arrives harmless: escaped in HTML, one line in the subject, no extra header', async () => {
    const user = await createUser(ctx.app);
    const title = 'Party <script>alert(1)</script>\r\nBcc: victim@example.com';
    const created = await ctx.app.inject({
      method: 'POST',
      url: '/events/create/',
      headers: organizer.auth,
      payload: { title, location: 'Hall <b>A</b>', date_time: '2030-05-01T18:00:00Z', capacity: 10 },
    });
    expect(created.statusCode).toBe(201);
    expect((await registerFor(ctx.app, user, created.json().id, 1)).statusCode).toBe(201);
    await ctx.deliver();
    const [mail] = ctx.smtp.to(user.email);
    expect(mail!.rcptTo).toEqual([user.email]);
    expect(mail!.parsed.bcc).toBeUndefined();
    expect(mail!.parsed.subject).toBe('Your tickets for Party <script>alert(1)</script> Bcc: victim@example.com');
    const headerBlock = mail!.raw.slice(0, mail!.raw.indexOf('\r\n\r\n'));
    expect(headerBlock).not.toMatch(/^bcc:/im);
    expect(mail!.parsed.html).not.toContain('<script>');
    expect(mail!.parsed.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(mail!.parsed.html).toContain('Hall &lt;b&gt;A&lt;/b&gt;');
  });
});

describe('delivery', () => {
  it('SMTP down for a while, then up: requests still succeed and every mail arrives exactly once', async () => {
    const event = await createEvent(ctx.app, organizer);
    const people = [await createUser(ctx.app), await createUser(ctx.app), await createUser(ctx.app)];
    await ctx.smtp.stop();
    for (const person of people) expect((await registerFor(ctx.app, person, event.id, 1)).statusCode).toBe(201);

    expect(await ctx.deliver()).toMatchObject({ sent: 0, retried: 3 });
    const waiting = (await outboxRows(ctx)).filter((r) => r.status === 'pending');
    expect(waiting).toHaveLength(3);
    for (const row of waiting) {
      expect(row.lastError).toMatch(/ECONNECTION|ESOCKET|ECONNREFUSED/);
      // Back-off: not before half of the 30 s base delay, with jitter.
      expect(row.nextAttemptAt.getTime()).toBeGreaterThanOrEqual(ctx.clock.now().getTime() + 15_000);
    }
    // Not due yet: nothing is tried again at once.
    expect(await ctx.deliver()).toMatchObject({ sent: 0, retried: 0 });
    ctx.clock.advance(60_000);
    expect(await ctx.deliver()).toMatchObject({ sent: 0, retried: 3 });

    await ctx.smtp.start();
    ctx.clock.advance(HOUR);
    expect(await ctx.deliver()).toMatchObject({ sent: 3, retried: 0 });
    ctx.clock.advance(HOUR);
    await ctx.deliver();
    for (const person of people) expect(ctx.smtp.to(person.email)).toHaveLength(1);
  });

  it('a permanent refusal (550) is recorded with the server answer and not retried', async () => {
    const user = await createUser(ctx.app);
    ctx.smtp.refuse.add(user.email);
    const event = await createEvent(ctx.app, organizer);
    await registerFor(ctx.app, user, event.id, 1);
    expect(await ctx.deliver()).toMatchObject({ failed: 1 });
    const row = (await outboxRows(ctx)).find((r) => (r.payload as { userId: string }).userId === user.id)!;
    expect(row.status).toBe('failed');
    expect(row.lastError).toContain('No such mailbox here');
    ctx.clock.advance(24 * HOUR);
    expect(await ctx.deliver()).toMatchObject({ failed: 0, sent: 0 });
  });

  it('two workers delivering at once never send one message twice', async () => {
    const event = await createEvent(ctx.app, organizer, { capacity: 100 });
    const people = await Promise.all(Array.from({ length: 30 }, () => createUser(ctx.app)));
    for (const person of people) await registerFor(ctx.app, person, event.id, 1);
    // The second worker as another process would be: its own SMTP connections and, on PostgreSQL, its own pool.
    const second = createMailTransport(ctx.config);
    const otherChannel = emailChannel({ config: ctx.config, transport: second, signer: ctx.app.linkSigner });
    const otherDatabase = ctx.database.url ? openPostgres(ctx.database.url, 5) : ctx.database;
    try {
      const [a, b] = await Promise.all([
        deliverDue(ctx.app.db, [ctx.channel], ctx.clock.now()),
        deliverDue(otherDatabase.db, [otherChannel], ctx.clock.now()),
      ]);
      expect(a.sent + b.sent).toBe(30);
    } finally {
      second.close();
      if (otherDatabase !== ctx.database) await otherDatabase.close();
    }
    const ids = people.flatMap((p) => ctx.smtp.to(p.email)).map((m) => m.parsed.messageId);
    expect(ids).toHaveLength(30);
    expect(new Set(ids).size).toBe(30);
    const mine = new Set(people.map((p) => p.id));
    const rows = (await ctx.app.db.select().from(outbox)).filter((r) => mine.has((r.payload as { userId: string }).userId));
    expect(rows.map((r) => [r.status, r.attempts])).toEqual(people.map(() => ['sent', 1]));
  });
});
