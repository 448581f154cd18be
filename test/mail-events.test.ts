import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDueJobs } from '../src/scheduled-jobs.js';
import { authHeader, createEvent, createOrganizer, createUser, registerFor, type TestUser } from './helpers/factories.js';
import { buildMailTestApp, outboxRows, rawHeader, type MailContext } from './helpers/mail.js';

let ctx: MailContext;
let organizer: TestUser;
beforeAll(async () => {
  ctx = await buildMailTestApp();
  organizer = await createOrganizer(ctx.app);
});
afterAll(async () => ctx.close());

const HOUR = 3_600_000;
const subjects = (user: TestUser) => ctx.smtp.to(user.email).map((m) => m.parsed.subject);
const editEvent = (id: string, payload: Record<string, unknown>) =>
  ctx.app.inject({ method: 'PATCH', url: `/events/${id}/edit/`, headers: authHeader(ctx.app, organizer.id), payload });

describe('mail preferences', () => {
  it('all optional mails are on by default; PUT changes the fields given; anonymous is 401, bad input 400', async () => {
    const user = await createUser(ctx.app);
    const get = () => ctx.app.inject({ method: 'GET', url: '/notifications/preferences/', headers: user.auth });
    expect((await get()).json()).toEqual({ reminders: true, feedback_requests: true, event_changes: true });
    const put = await ctx.app.inject({
      method: 'PUT',
      url: '/notifications/preferences/',
      headers: user.auth,
      payload: { reminders: false },
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toEqual({ reminders: false, feedback_requests: true, event_changes: true });
    expect((await get()).json()).toEqual(put.json());
    const bad = await ctx.app.inject({
      method: 'PUT',
      url: '/notifications/preferences/',
      headers: user.auth,
      payload: { reminders: 'maybe' },
    });
    expect(bad.statusCode).toBe(400);
    expect((await ctx.app.inject({ method: 'GET', url: '/notifications/preferences/' })).statusCode).toBe(401);
  });
});

describe('event mails', () => {
  it('event changed, with one-click unsubscribe (RFC 8058) that stops that kind only: the reminder and feedback request still come', async () => {
    const start = new Date(ctx.clock.now().getTime() + 72 * HOUR);
    const event = await createEvent(ctx.app, organizer, { title: 'Harmattan Jazz Night', dateTime: start });
    const [user, other] = [await createUser(ctx.app), await createUser(ctx.app)];
    await registerFor(ctx.app, user, event.id, 1);
    await registerFor(ctx.app, other, event.id, 1);
    expect((await editEvent(event.id, { location: 'Muson Centre' })).statusCode).toBe(200);
    await ctx.deliver();
    const changed = ctx.smtp.to(user.email).find((m) => m.parsed.subject === 'Event changed: Harmattan Jazz Night')!.parsed;
    expect(changed.text).toContain('it now takes place at Muson Centre (was Lagos, Nigeria)');
    expect(changed.attachments.map((a) => a.filename)).toEqual(['event.ics']);
    const unsubscribeUrl = /^<(.+)>$/.exec(rawHeader(changed, 'List-Unsubscribe') ?? '')?.[1];
    expect(unsubscribeUrl).toMatch(/^https:\/\/tickets\.example\.test\/notifications\/unsubscribe\/\?token=/);
    expect(rawHeader(changed, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(changed.text).toContain(unsubscribeUrl);

    // Opening the link (a scanner, a preview) changes nothing; the one-click POST does.
    const path = unsubscribeUrl!.replace('https://tickets.example.test', '');
    const page = await ctx.app.inject({ method: 'GET', url: path });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('<form method="post"');
    const oneClick = await ctx.app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(oneClick.statusCode).toBe(200);
    expect(oneClick.json().preference).toBe('event_changes');
    const prefs = await ctx.app.inject({ method: 'GET', url: '/notifications/preferences/', headers: user.auth });
    expect(prefs.json()).toEqual({ reminders: true, feedback_requests: true, event_changes: false });

    expect((await editEvent(event.id, { date_time: new Date(start.getTime() + HOUR).toISOString() })).statusCode).toBe(200);
    await ctx.deliver();
    expect(subjects(user).filter((s) => s?.startsWith('Event changed'))).toHaveLength(1);
    expect(subjects(other).filter((s) => s?.startsWith('Event changed'))).toHaveLength(2);
    const dropped = (await outboxRows(ctx)).filter((r) => r.status === 'dropped');
    expect(dropped.map((r) => r.lastError)).toContain('the recipient turned event_changes off');

    ctx.clock.set(new Date(start.getTime() + HOUR - 24 * HOUR));
    await runDueJobs(ctx.app.db, ctx.clock.now(), ctx.config);
    await ctx.deliver();
    const reminder = ctx.smtp.to(user.email).find((m) => m.parsed.subject === 'Starts soon: Harmattan Jazz Night')!.parsed;
    expect(rawHeader(reminder, 'List-Unsubscribe')).toMatch(/unsubscribe\/\?token=/);
    ctx.clock.set(new Date(start.getTime() + 3 * HOUR));
    await runDueJobs(ctx.app.db, ctx.clock.now(), ctx.config);
    await ctx.deliver();
    expect(subjects(user)).toContain('How was Harmattan Jazz Night?');
  });

  it('an unsubscribe token that is forged or altered is a 400 and changes nothing', async () => {
    for (const token of ['nope', 'a.b.c', `${organizer.id}.reminders.AAAA`]) {
      const res = await ctx.app.inject({ method: 'POST', url: `/notifications/unsubscribe/?token=${encodeURIComponent(token)}` });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toHaveProperty('token');
    }
  });

  it('event cancelled: every registrant and waitlisted user gets one mail saying so', async () => {
    const event = await createEvent(ctx.app, organizer, { title: 'Rainy Picnic', capacity: 1 });
    const [seated, waiting] = [await createUser(ctx.app), await createUser(ctx.app)];
    await registerFor(ctx.app, seated, event.id, 1);
    await registerFor(ctx.app, waiting, event.id, 1);
    expect(
      (await ctx.app.inject({ method: 'DELETE', url: `/events/${event.id}/edit/`, headers: authHeader(ctx.app, organizer.id) })).statusCode,
    ).toBe(204);
    await ctx.deliver();
    for (const user of [seated, waiting]) {
      const cancelled = ctx.smtp.to(user.email).filter((m) => m.parsed.subject === 'Event cancelled: Rainy Picnic');
      expect(cancelled).toHaveLength(1);
      expect(cancelled[0]!.parsed.text).toContain('has been cancelled by its organizer');
      expect(rawHeader(cancelled[0]!.parsed, 'List-Unsubscribe')).toBeUndefined();
    }
  });
});
