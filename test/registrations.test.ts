import { and, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { events, notifications, registrations, tickets } from '../src/db/schema.js';
import { cancelAllForEvent, exportForEvent, promoteWaitlist } from '../src/modules/registrations/registrations.service.js';
import { buildTestApp } from './helpers/app.js';
import {
  appWithOrganizer,
  authHeader,
  createEvent,
  createOrganizer,
  createStaff,
  createUser,
  readEvent,
  registerFor,
  registerInTurn as registerInOrder,
  type TestUser,
} from './helpers/factories.js';

const ctx = appWithOrganizer();

const HOUR = 3600 * 1000;
const CODE = /^EVT-[0-9A-HJKMNP-TV-Z]{12}-\d+$/;

const get = (url: string, user: TestUser, headers: Record<string, string> = {}) =>
  ctx.app.inject({ method: 'GET', url, headers: { ...authHeader(ctx.app, user.id), ...headers } });
const cancel = (id: string, user: TestUser) =>
  ctx.app.inject({ method: 'POST', url: `/registrations/${id}/cancel/`, headers: authHeader(ctx.app, user.id) });

async function notificationsOf(userId: string) {
  return ctx.app.db.select().from(notifications).where(eq(notifications.userId, userId));
}

const registerInTurn = (eventId: string, quantities: number[]) => registerInOrder(ctx.app, ctx.clock, eventId, quantities);

describe('POST /registrations/', () => {
  it('registers all seats, issues one unguessable ticket per seat and counts the seats', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { capacity: 5, title: 'Lagos Tech Bootcamp' });
    const user = await createUser(ctx.app);
    const res = await registerFor(ctx.app, user, event.id, 3);
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({
      user: user.id,
      event: event.id,
      event_title: 'Lagos Tech Bootcamp',
      event_date_time: event.dateTime.toISOString(),
      quantity: 3,
      status: 'registered',
      is_waitlisted: false,
      waitlist_position: null,
      created_at: '2030-01-01T00:00:00.000Z',
      cancelled_at: null,
    });
    expect(body.ticket_instances).toHaveLength(3);
    const codes = body.ticket_instances.map((t: { code: string }) => t.code);
    expect(new Set(codes).size).toBe(3);
    body.ticket_instances.forEach((t: { code: string; seat: number; is_used: boolean }, i: number) => {
      expect(t.code).toMatch(CODE);
      expect(t.code.endsWith(`-${i + 1}`)).toBe(true);
      expect(t.seat).toBe(i + 1);
      expect(t.is_used).toBe(false);
    });
    // Each seat has its own random part: one ticket does not reveal another.
    expect(new Set(codes.map((c: string) => c.split('-')[1])).size).toBe(3);
    expect(await readEvent(ctx.app, event.id)).toMatchObject({ registeredCount: 3, waitlistCount: 0 });
    const [note] = await notificationsOf(user.id);
    expect(note).toMatchObject({
      eventId: event.id,
      kind: 'registered',
      message: 'You have successfully registered for Lagos Tech Bootcamp.',
    });
  });

  it('defaults quantity to 1 and enforces 1..MAX_TICKETS_PER_REGISTRATION', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { capacity: 50 });
    const user = await createUser(ctx.app);
    for (const [quantity, message] of [
      [0, 'Ensure this value is greater than or equal to 1.'],
      [11, 'Ensure this value is less than or equal to 10.'],
      [1.5, 'A valid integer is required.'],
      ['two', 'A valid integer is required.'],
    ] as const) {
      const res = await ctx.app.inject({
        method: 'POST',
        url: '/registrations/',
        headers: user.auth,
        payload: { event: event.id, quantity },
      });
      expect(res.statusCode, String(quantity)).toBe(400);
      expect(res.json()).toEqual({ quantity: [message] });
    }
    const res = await ctx.app.inject({ method: 'POST', url: '/registrations/', headers: user.auth, payload: { event: event.id } });
    expect(res.statusCode).toBe(201);
    expect(res.json().quantity).toBe(1);
  });

  it('honours a configured MAX_TICKETS_PER_REGISTRATION', async () => {
    const small = await buildTestApp({ env: { MAX_TICKETS_PER_REGISTRATION: '2' }, database: ctx.database, clock: ctx.clock });
    try {
      const org = await createOrganizer(small.app);
      const event = await createEvent(small.app, org);
      const user = await createUser(small.app);
      const res = await registerFor(small.app, user, event.id, 3);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ quantity: ['Ensure this value is less than or equal to 2.'] });
    } finally {
      await small.close();
    }
  });

  it('refuses an unknown, a cancelled and a started event, and anonymous callers', async () => {
    const user = await createUser(ctx.app);
    const missing = await registerFor(ctx.app, user, '00000000-0000-4000-8000-000000000000');
    expect(missing.statusCode).toBe(400);
    expect(missing.json().event[0]).toContain('does not exist');

    const bad = await ctx.app.inject({ method: 'POST', url: '/registrations/', headers: user.auth, payload: { event: 'nope' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ event: ['Must be a valid UUID.'] });

    const inactive = await createEvent(ctx.app, ctx.organizer, { isActive: false });
    const res1 = await registerFor(ctx.app, user, inactive.id);
    expect(res1.statusCode).toBe(400);
    expect(res1.json()).toMatchObject({ code: 'event_inactive' });

    const started = await createEvent(ctx.app, ctx.organizer, { dateTime: ctx.clock.now() });
    const res2 = await registerFor(ctx.app, user, started.id);
    expect(res2.statusCode).toBe(400);
    expect(res2.json()).toMatchObject({ code: 'event_started', detail: expect.stringContaining('already started') });

    const event = await createEvent(ctx.app, ctx.organizer);
    const anon = await ctx.app.inject({ method: 'POST', url: '/registrations/', payload: { event: event.id } });
    expect(anon.statusCode).toBe(401);
    expect(await readEvent(ctx.app, event.id)).toMatchObject({ registeredCount: 0 });
  });

  it('allows one live registration per user and event, and a new one after cancelling', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { capacity: 2 });
    const user = await createUser(ctx.app);
    const first = await registerFor(ctx.app, user, event.id, 1);
    expect(first.statusCode).toBe(201);
    const again = await registerFor(ctx.app, user, event.id, 1);
    expect(again.statusCode).toBe(400);
    expect(again.json()).toEqual({ detail: 'You are already registered for this event.', code: 'already_registered' });

    expect((await cancel(first.json().id, user)).statusCode).toBe(200);
    const third = await registerFor(ctx.app, user, event.id, 2);
    expect(third.statusCode).toBe(201);
    expect(third.json().status).toBe('registered');
    const other = await createUser(ctx.app);
    expect((await registerFor(ctx.app, other, event.id, 1)).json().status).toBe('waitlisted');
    const waitlistedAgain = await registerFor(ctx.app, other, event.id, 1);
    expect(waitlistedAgain.json()).toMatchObject({ code: 'already_registered', detail: expect.stringContaining('waiting list') });
  });

  it('waitlists the whole order, without tickets, when not all its seats are free', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { capacity: 4, title: 'Small Room' });
    const [a] = await registerInTurn(event.id, [3]);
    expect(a!.status).toBe('registered');
    const user = await createUser(ctx.app);
    const res = await registerFor(ctx.app, user, event.id, 2);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ status: 'waitlisted', is_waitlisted: true, waitlist_position: 1, ticket_instances: [] });
    expect(await readEvent(ctx.app, event.id)).toMatchObject({ registeredCount: 3, waitlistCount: 1 });
    const rows = await ctx.app.db.select().from(tickets).where(eq(tickets.registrationId, res.json().id));
    expect(rows).toHaveLength(0);
    const [note] = await notificationsOf(user.id);
    expect(note).toMatchObject({ kind: 'waitlisted', message: 'Small Room is full. You have been added to the waiting list.' });
    // A smaller order that fits is served even with a waiting list, which only holds orders that do not fit.
    const single = await createUser(ctx.app);
    expect((await registerFor(ctx.app, single, event.id, 1)).json().status).toBe('registered');
  });
});

describe('cancelling and the waiting list', () => {
  it('cancels: status, void tickets, seats back, the waiting list promoted in FIFO order', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { capacity: 5, title: 'Jazz Night' });
    const [holder, b, c, d, e] = await registerInTurn(event.id, [5, 3, 2, 1, 2]);
    expect([b, c, d, e].map((r) => r!.status)).toEqual(['waitlisted', 'waitlisted', 'waitlisted', 'waitlisted']);
    const positions = await Promise.all([b, c, d, e].map(async (r) => (await get(`/registrations/${r!.id}/`, r!.user)).json()));
    expect(positions.map((p) => p.waitlist_position)).toEqual([1, 2, 3, 4]);
    // The POST answered each its place too (it once said 1 to everyone: a bare column name in the CTE's subquery).
    expect([b, c, d, e].map((r) => r!.waitlistPosition)).toEqual([1, 2, 3, 4]);
    expect(await readEvent(ctx.app, event.id)).toMatchObject({ registeredCount: 5, waitlistCount: 4 });

    ctx.clock.advance(HOUR);
    const res = await cancel(holder!.id, holder!.user);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'cancelled', cancelled_at: ctx.clock.now().toISOString() });
    const ticketRes = await get(`/tickets/${res.json().ticket_instances[0].code}/`, holder!.user);
    expect(ticketRes.json().status).toBe('cancelled');

    // 5 free seats: b (3) and c (2) fill them; d and e keep waiting, now first and second.
    const after = await Promise.all([b, c, d, e].map(async (r) => (await get(`/registrations/${r!.id}/`, r!.user)).json()));
    expect(after.map((r) => r.status)).toEqual(['registered', 'registered', 'waitlisted', 'waitlisted']);
    expect(after.map((r) => r.ticket_instances.length)).toEqual([3, 2, 0, 0]);
    expect(after.map((r) => r.waitlist_position)).toEqual([null, null, 1, 2]);
    expect(await readEvent(ctx.app, event.id)).toMatchObject({ registeredCount: 5, waitlistCount: 2 });

    expect((await notificationsOf(holder!.user.id)).map((n) => [n.kind, n.message])).toContainEqual([
      'registration_cancelled',
      'Your registration for Jazz Night has been cancelled.',
    ]);
    expect((await notificationsOf(b!.user.id)).map((n) => [n.kind, n.message])).toContainEqual([
      'promoted',
      'A place opened up: you are now registered for Jazz Night.',
    ]);
    expect((await notificationsOf(d!.user.id)).map((n) => n.kind)).toEqual(['waitlisted']);
  });

  it('skips a waiting order that does not fit so the seats go to a smaller one behind it', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { capacity: 4 });
    const [a, f, b, c, d] = await registerInTurn(event.id, [2, 2, 3, 1, 2]);
    expect([b, c, d].map((r) => r!.status)).toEqual(['waitlisted', 'waitlisted', 'waitlisted']);

    expect((await cancel(a!.id, a!.user)).statusCode).toBe(200);
    // 2 free: b (3) does not fit, c (1) does, d (2) no longer does.
    const statuses = async () => Promise.all([b, c, d].map(async (r) => (await get(`/registrations/${r!.id}/`, r!.user)).json()));
    let now = await statuses();
    expect(now.map((r) => [r.status, r.waitlist_position])).toEqual([
      ['waitlisted', 1],
      ['registered', null],
      ['waitlisted', 2],
    ]);
    expect(await readEvent(ctx.app, event.id)).toMatchObject({ registeredCount: 3, waitlistCount: 2 });

    expect((await cancel(f!.id, f!.user)).statusCode).toBe(200);
    // 3 free: b (3), the oldest, takes them all.
    now = await statuses();
    expect(now.map((r) => [r.status, r.waitlist_position])).toEqual([
      ['registered', null],
      ['registered', null],
      ['waitlisted', 1],
    ]);
    expect(await readEvent(ctx.app, event.id)).toMatchObject({ registeredCount: 4, waitlistCount: 1 });
  });

  it('cancelling a waitlisted order frees no seat and moves the queue up', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { capacity: 1 });
    const [, b, c] = await registerInTurn(event.id, [1, 1, 1]);
    expect((await cancel(b!.id, b!.user)).statusCode).toBe(200);
    expect((await get(`/registrations/${c!.id}/`, c!.user)).json()).toMatchObject({ status: 'waitlisted', waitlist_position: 1 });
    expect(await readEvent(ctx.app, event.id)).toMatchObject({ registeredCount: 1, waitlistCount: 1 });
  });

  it('refuses cancelling twice, after the start, and by strangers; allows the organizer and staff', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { capacity: 10, dateTime: new Date(ctx.clock.now().getTime() + 48 * HOUR) });
    const [a, b, c] = await registerInTurn(event.id, [1, 1, 1]);
    const stranger = await createUser(ctx.app);
    const otherOrganizer = await createOrganizer(ctx.app);
    expect((await cancel(a!.id, stranger)).statusCode).toBe(404);
    expect((await cancel(a!.id, otherOrganizer)).statusCode).toBe(404);

    expect((await cancel(a!.id, a!.user)).statusCode).toBe(200);
    const twice = await cancel(a!.id, a!.user);
    expect(twice.statusCode).toBe(400);
    expect(twice.json()).toMatchObject({ code: 'already_cancelled' });

    const byOrganizer = await cancel(b!.id, ctx.organizer);
    expect(byOrganizer.statusCode).toBe(200);
    expect((await notificationsOf(b!.user.id)).map((n) => n.message)).toContainEqual(expect.stringContaining('cancelled by the organizer'));
    const staff = await createStaff(ctx.app);
    ctx.clock.advance(48 * HOUR);
    const late = await cancel(c!.id, staff);
    expect(late.statusCode).toBe(400);
    expect(late.json()).toMatchObject({ code: 'event_started' });
    ctx.clock.advance(-48 * HOUR);
    expect((await cancel(c!.id, staff)).statusCode).toBe(200);
    expect(await readEvent(ctx.app, event.id)).toMatchObject({ registeredCount: 0, waitlistCount: 0 });
  });
});

describe('reading registrations', () => {
  it('GET /registrations/mine/ lists only my own, newest first, with filters and the event embedded', async () => {
    const me = await createUser(ctx.app);
    const someoneElse = await createUser(ctx.app);
    const soon = await createEvent(ctx.app, ctx.organizer, {
      capacity: 1,
      title: 'Soon',
      dateTime: new Date(ctx.clock.now().getTime() + 2 * HOUR),
    });
    const later = await createEvent(ctx.app, ctx.organizer, { capacity: 5, title: 'Later' });
    const full = await createEvent(ctx.app, ctx.organizer, { capacity: 1, title: 'Full' });
    expect((await registerFor(ctx.app, someoneElse, full.id)).statusCode).toBe(201);
    expect((await registerFor(ctx.app, someoneElse, later.id)).statusCode).toBe(201);
    ctx.clock.advance(1000);
    expect((await registerFor(ctx.app, me, soon.id)).statusCode).toBe(201);
    ctx.clock.advance(1000);
    expect((await registerFor(ctx.app, me, later.id, 2)).statusCode).toBe(201);
    ctx.clock.advance(1000);
    expect((await registerFor(ctx.app, me, full.id)).json().status).toBe('waitlisted');

    const all = await get('/registrations/mine/', me);
    expect(all.statusCode).toBe(200);
    expect(all.json().count).toBe(3);
    expect(all.json().results.map((r: { event_title: string }) => r.event_title)).toEqual(['Full', 'Later', 'Soon']);
    expect(all.json().results.every((r: { user: string }) => r.user === me.id)).toBe(true);
    expect(all.json().results[1]).toMatchObject({ event_date_time: later.dateTime.toISOString(), quantity: 2 });
    expect(all.json().results[1].ticket_instances).toHaveLength(2);
    // The list builds tickets in SQL; they must read exactly as the single registration shows them.
    const single = await get(`/registrations/${all.json().results[1].id}/`, me);
    expect(all.json().results[1].ticket_instances).toEqual(single.json().ticket_instances);
    expect(all.json().results[0].ticket_instances).toEqual([]);

    const waitlisted = await get('/registrations/mine/?status=waitlisted', me);
    expect(waitlisted.json().results.map((r: { event_title: string }) => r.event_title)).toEqual(['Full']);
    expect(waitlisted.json().results[0].waitlist_position).toBe(1);

    const page = await get('/registrations/mine/?page_size=2&page=2', me);
    expect(page.json()).toMatchObject({ count: 3, next: null });
    expect(page.json().results.map((r: { event_title: string }) => r.event_title)).toEqual(['Soon']);

    ctx.clock.advance(3 * HOUR); // "Soon" has started
    const upcoming = await get('/registrations/mine/?upcoming=true', me);
    expect(upcoming.json().results.map((r: { event_title: string }) => r.event_title)).toEqual(['Full', 'Later']);
    ctx.clock.advance(-3 * HOUR);

    expect((await get('/registrations/mine/?status=bogus', me)).statusCode).toBe(400);
    expect((await ctx.app.inject({ method: 'GET', url: '/registrations/mine/' })).statusCode).toBe(401);
  });

  it('GET /registrations/mine/ (written as JSON by PostgreSQL) reads exactly as GET /registrations/<id>/ for every kind of registration', async () => {
    const me = await createUser(ctx.app);
    const rival = await createUser(ctx.app);
    const roomy = await createEvent(ctx.app, ctx.organizer, { capacity: 9, title: 'Quote " back\\slash é 🎟' });
    const tiny = await createEvent(ctx.app, ctx.organizer, { capacity: 1, title: 'Tiny' });
    const dropped = await createEvent(ctx.app, ctx.organizer, { capacity: 3, title: 'Dropped' });
    expect((await registerFor(ctx.app, rival, tiny.id)).statusCode).toBe(201);
    const waiting = await registerFor(ctx.app, rival, dropped.id, 3);
    expect(waiting.statusCode).toBe(201);
    ctx.clock.advance(1000);
    const three = (await registerFor(ctx.app, me, roomy.id, 3)).json();
    ctx.clock.advance(1000);
    expect((await registerFor(ctx.app, me, tiny.id)).json().waitlist_position).toBe(1);
    ctx.clock.advance(1000);
    const gone = (await registerFor(ctx.app, me, dropped.id, 2)).json();
    expect(gone.status).toBe('waitlisted');
    ctx.clock.advance(1000);
    expect((await cancel(gone.id, me)).statusCode).toBe(200);
    // A used ticket, and timestamps with microseconds (the API shows milliseconds, truncated, like Date does).
    await ctx.app.db.update(tickets).set({ isUsed: true, usedAt: ctx.clock.now() }).where(eq(tickets.code, three.ticket_instances[1].code));
    await ctx.app.db.execute(sql`update registrations set created_at = created_at + interval '0.000999 seconds',
      cancelled_at = cancelled_at + interval '0.123456 seconds' where user_id = ${me.id}`);
    await ctx.app.db.execute(sql`update events set date_time = date_time + interval '0.987654 seconds' where id = ${roomy.id}`);

    const mine = await get('/registrations/mine/', me);
    expect(mine.statusCode).toBe(200);
    expect(mine.headers['content-type']).toBe('application/json; charset=utf-8');
    const items = mine.json().results;
    expect(items.map((r: { status: string }) => r.status)).toEqual(['cancelled', 'waitlisted', 'registered']);
    for (const item of items) {
      const single = await get(`/registrations/${item.id}/`, me);
      expect(item).toEqual(single.json());
      expect(Object.keys(item)).toEqual(Object.keys(single.json()));
    }
    expect(items[0].cancelled_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.123Z$/);
    expect(items[2].event_title).toBe('Quote " back\\slash é 🎟');
    expect(items[2].event_date_time).toBe(new Date(roomy.dateTime.getTime() + 987).toISOString());
    expect(items[2].ticket_instances.map((t: { is_used: boolean }) => t.is_used)).toEqual([false, true, false]);

    // The envelope: next/previous links and the count, as every other list writes them.
    const first = (await get('/registrations/mine/?page_size=2', me)).json();
    expect(first).toMatchObject({ count: 3, previous: null, next: 'http://localhost/registrations/mine/?page_size=2&page=2' });
    const second = (await get('/registrations/mine/?page_size=2&page=2', me)).json();
    expect(second).toMatchObject({ count: 3, next: null, previous: 'http://localhost/registrations/mine/?page_size=2' });
    expect(second.results.map((r: { id: string }) => r.id)).toEqual([items[2].id]);
    const exact = (await get('/registrations/mine/?page_size=3', me)).json();
    expect(exact).toMatchObject({ count: 3, next: null });
    expect((await get('/registrations/mine/?page=3&page_size=2', me)).statusCode).toBe(404);
    const nobody = await get('/registrations/mine/', await createUser(ctx.app));
    expect(nobody.json()).toEqual({ count: 0, next: null, previous: null, results: [] });
  });

  it('GET /registrations/mine/ read again shows every change at once: its event, its place in the queue, its tickets, itself', async () => {
    const me = await createUser(ctx.app);
    const ahead = await createUser(ctx.app);
    const full = await createEvent(ctx.app, ctx.organizer, { capacity: 1, title: 'Full' });
    const roomy = await createEvent(ctx.app, ctx.organizer, { capacity: 5, title: 'Roomy' });
    expect((await registerFor(ctx.app, await createUser(ctx.app), full.id)).statusCode).toBe(201);
    const aheadOrder = (await registerFor(ctx.app, ahead, full.id)).json();
    ctx.clock.advance(1000);
    const queued = (await registerFor(ctx.app, me, full.id)).json();
    ctx.clock.advance(1000);
    const seated = (await registerFor(ctx.app, me, roomy.id, 2)).json();
    const mine = async () => {
      const items = (await get('/registrations/mine/', me)).json().results as Array<Record<string, unknown>>;
      // Each item still reads exactly as the registration's own page.
      for (const item of items) expect(item).toEqual((await get(`/registrations/${String(item.id)}/`, me)).json());
      return new Map(items.map((item) => [item.id, item]));
    };
    expect((await mine()).get(queued.id)).toMatchObject({ waitlist_position: 2 });
    // Someone ahead leaves the queue: my place moves, though my order's row did not change.
    expect((await cancel(aheadOrder.id, ahead)).statusCode).toBe(200);
    expect((await mine()).get(queued.id)).toMatchObject({ waitlist_position: 1 });
    // The event is renamed; a ticket is used at the door (only the ticket's row changes).
    await ctx.app.db.update(events).set({ title: 'Roomy, renamed' }).where(eq(events.id, roomy.id));
    await ctx.app.db.update(tickets).set({ isUsed: true }).where(eq(tickets.code, seated.ticket_instances[0].code));
    expect((await mine()).get(seated.id)).toMatchObject({
      event_title: 'Roomy, renamed',
      ticket_instances: [expect.objectContaining({ is_used: true }), expect.objectContaining({ is_used: false })],
    });
    // My own order is cancelled.
    expect((await cancel(seated.id, me)).statusCode).toBe(200);
    expect((await mine()).get(seated.id)).toMatchObject({ status: 'cancelled' });
  });

  it('GET /registrations/<id>/ answers the owner, the organizer and staff; 404 for anyone else', async () => {
    const event = await createEvent(ctx.app, ctx.organizer);
    const [reg] = await registerInTurn(event.id, [2]);
    for (const reader of [reg!.user, ctx.organizer, await createStaff(ctx.app)]) {
      const res = await get(`/registrations/${reg!.id}/`, reader);
      expect(res.statusCode).toBe(200);
      expect(res.json().ticket_instances).toHaveLength(2);
    }
    for (const reader of [await createUser(ctx.app), await createOrganizer(ctx.app)]) {
      expect((await get(`/registrations/${reg!.id}/`, reader)).statusCode).toBe(404);
    }
    expect((await get('/registrations/not-a-uuid/', reg!.user)).statusCode).toBe(404);
  });
});

describe('GET /events/<id>/registrations/', () => {
  it('lists an event for its organizer and staff, oldest first, filterable by status; 403 for others', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { capacity: 2 });
    const regs = await registerInTurn(event.id, [1, 1, 1]);
    const res = await get(`/events/${event.id}/registrations/`, ctx.organizer);
    expect(res.statusCode).toBe(200);
    expect(res.json().count).toBe(3);
    expect(res.json().results.map((r: { id: string }) => r.id)).toEqual(regs.map((r) => r.id));
    expect(res.json().results[0].username).toBe(regs[0]!.user.username);

    const waiting = await get(`/events/${event.id}/registrations/?status=waitlisted`, await createStaff(ctx.app));
    expect(waiting.json().results.map((r: { id: string }) => r.id)).toEqual([regs[2]!.id]);

    expect((await get(`/events/${event.id}/registrations/`, await createOrganizer(ctx.app))).statusCode).toBe(403);
    expect((await get(`/events/${event.id}/registrations/`, regs[0]!.user)).statusCode).toBe(403);
    expect((await get(`/events/00000000-0000-4000-8000-000000000000/registrations/`, ctx.organizer)).statusCode).toBe(404);
    const hidden = await createEvent(ctx.app, ctx.organizer, { isActive: false });
    expect((await get(`/events/${hidden.id}/registrations/`, await createOrganizer(ctx.app))).statusCode).toBe(404);
    expect((await get(`/events/${hidden.id}/registrations/`, ctx.organizer)).statusCode).toBe(200);
  });

  it('exports CSV (Accept or ?format=csv) with RFC 4180 quoting and formula cells neutralised', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { capacity: 3 });
    ctx.clock.advance(1000);
    const quoted = await createUser(ctx.app, { username: 'Smith, "Jo"' });
    const regQuoted = (await registerFor(ctx.app, quoted, event.id, 2)).json();
    ctx.clock.advance(1000);
    const formula = await createUser(ctx.app, { username: '=HYPERLINK("http://x")' });
    const regFormula = (await registerFor(ctx.app, formula, event.id, 2)).json();

    const byAccept = await get(`/events/${event.id}/registrations/`, ctx.organizer, { accept: 'text/csv' });
    expect(byAccept.statusCode).toBe(200);
    expect(byAccept.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(byAccept.headers['content-disposition']).toContain('attachment');
    const lines = byAccept.body.split('\r\n');
    expect(lines[0]).toBe('registration_id,username,status,quantity,created_at,cancelled_at,waitlist_position,ticket_codes,checked_in');
    const codes = regQuoted.ticket_instances.map((t: { code: string }) => t.code).join(' ');
    expect(lines[1]).toBe(`${regQuoted.id},"Smith, ""Jo""",registered,2,${regQuoted.created_at},,,${codes},0`);
    expect(lines[2]).toBe(`${regFormula.id},"'=HYPERLINK(""http://x"")",waitlisted,2,${regFormula.created_at},,1,,0`);
    expect(lines[3]).toBe('');
    expect(lines).toHaveLength(4);

    const byQuery = await get(`/events/${event.id}/registrations/?format=csv&status=waitlisted`, ctx.organizer);
    expect(byQuery.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(byQuery.body.split('\r\n')).toHaveLength(3);
    expect((await get(`/events/${event.id}/registrations/?format=csv`, formula)).statusCode).toBe(403);
  });

  it('reads the export a page at a time, in the door-list order, every registration once', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { capacity: 3 });
    const made = await registerInTurn(event.id, [1, 2, 1, 1, 2]);
    const staffer = await createStaff(ctx.app);
    const pages = await exportForEvent(ctx.app.db, staffer, event.id, {}, 2);
    const sizes: number[] = [];
    const ids: string[] = [];
    for await (const page of pages) {
      sizes.push(page.length);
      ids.push(...page.map((r) => r.id));
      expect(page.every((r) => r.tickets.length === (r.status === 'registered' ? r.quantity : 0))).toBe(true);
    }
    expect(sizes).toEqual([2, 2, 1]);
    expect(ids).toEqual(made.map((r) => r.id));
    const someoneElse = await createUser(ctx.app);
    await expect(exportForEvent(ctx.app.db, someoneElse, event.id, {})).rejects.toMatchObject({ statusCode: 403 });
  });
});

describe('privacy', () => {
  it('never shows one user another user’s registrations or tickets', async () => {
    const event = await createEvent(ctx.app, ctx.organizer);
    const [alice] = await registerInTurn(event.id, [1]);
    const bob = await createUser(ctx.app);
    const mine = await get('/registrations/mine/', bob);
    expect(mine.json().count).toBe(0);
    expect((await get(`/registrations/${alice!.id}/`, bob)).statusCode).toBe(404);
    const code = (await get(`/registrations/${alice!.id}/`, alice!.user)).json().ticket_instances[0].code;
    expect((await get(`/tickets/${code}/`, bob)).statusCode).toBe(404);
    const rows = await ctx.app.db
      .select()
      .from(registrations)
      .where(and(eq(registrations.userId, bob.id), eq(registrations.eventId, event.id)));
    expect(rows).toHaveLength(0);
  });
});

describe('hooks for the events module', () => {
  it('promoteWaitlist after a capacity increase fills the new seats in FIFO order, skipping what does not fit', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { capacity: 2, title: 'Growing' });
    const [, b, c, d] = await registerInTurn(event.id, [2, 3, 2, 1]);
    const promoted = await ctx.app.db.transaction(async (tx) => {
      await tx.select().from(events).where(eq(events.id, event.id)).for('update');
      await tx.update(events).set({ capacity: 5 }).where(eq(events.id, event.id));
      return promoteWaitlist(tx, event.id, ctx.clock.now());
    });
    // 3 new seats: b (3) takes them; c and d keep waiting.
    expect(promoted.map((r) => r.id)).toEqual([b!.id]);
    expect(await readEvent(ctx.app, event.id)).toMatchObject({ registeredCount: 5, waitlistCount: 2 });
    const again = await ctx.app.db.transaction(async (tx) => {
      await tx.update(events).set({ capacity: 6 }).where(eq(events.id, event.id));
      return promoteWaitlist(tx, event.id, ctx.clock.now());
    });
    // 1 new seat: c (2) is skipped, d (1) gets it.
    expect(again.map((r) => r.id)).toEqual([d!.id]);
    const view = (await get(`/registrations/${d!.id}/`, d!.user)).json();
    expect(view).toMatchObject({ status: 'registered' });
    expect(view.ticket_instances).toHaveLength(1);
    expect((await get(`/registrations/${c!.id}/`, c!.user)).json().waitlist_position).toBe(1);
    expect((await notificationsOf(d!.user.id)).map((n) => n.kind).sort()).toEqual(['promoted', 'waitlisted']);
  });

  it('cancelAllForEvent cancels every live registration, empties the counts and tells each registrant', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { capacity: 3, title: 'Called Off' });
    const regs = await registerInTurn(event.id, [2, 1, 2]);
    const earlier = regs[1]!;
    expect((await cancel(earlier.id, earlier.user)).statusCode).toBe(200);
    ctx.clock.advance(HOUR);
    const count = await ctx.app.db.transaction(async (tx) => {
      const n = await cancelAllForEvent(tx, event.id, ctx.clock.now());
      await tx.update(events).set({ isActive: false }).where(eq(events.id, event.id));
      return n;
    });
    expect(count).toBe(2);
    expect(await readEvent(ctx.app, event.id)).toMatchObject({ registeredCount: 0, waitlistCount: 0, isActive: false });
    for (const r of [regs[0]!, regs[2]!]) {
      const view = (await get(`/registrations/${r.id}/`, r.user)).json();
      expect(view).toMatchObject({ status: 'cancelled', cancelled_at: ctx.clock.now().toISOString() });
      const kinds = (await notificationsOf(r.user.id)).map((n) => [n.kind, n.message]);
      expect(kinds).toContainEqual(['event_cancelled', expect.stringContaining('"Called Off"')]);
    }
    // The registration cancelled before keeps its own cancellation time and gets no second notice.
    expect((await notificationsOf(earlier.user.id)).map((n) => n.kind).sort()).toEqual(['registered', 'registration_cancelled']);
    const code = (await get(`/registrations/${regs[0]!.id}/`, regs[0]!.user)).json().ticket_instances[0].code;
    const scan = await ctx.app.inject({
      method: 'POST',
      url: '/tickets/check-in/',
      headers: authHeader(ctx.app, ctx.organizer.id),
      payload: { code },
    });
    expect(scan.statusCode).toBe(409);
    expect(scan.json().code).toBe('registration_cancelled');
    // Registering for the cancelled event is refused.
    expect((await registerFor(ctx.app, await createUser(ctx.app), event.id)).json().code).toBe('event_inactive');
  });
});
