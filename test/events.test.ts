import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findEventById } from '../src/modules/events/events.repository.js';
import { buildTestApp, type TestContext } from './helpers/app.js';
import { onPostgres } from './helpers/database.js';
import { createCategory, createEvent, createOrganizer, createStaff, createUser, type TestUser } from './helpers/factories.js';

let ctx: TestContext;
let staff: TestUser;
let user: TestUser;
let owner: TestUser;
let otherOrganizer: TestUser;
beforeAll(async () => {
  ctx = await buildTestApp();
  [staff, user, owner, otherOrganizer] = await Promise.all([
    createStaff(ctx.app),
    createUser(ctx.app),
    createOrganizer(ctx.app),
    createOrganizer(ctx.app),
  ]);
});
afterAll(async () => ctx.close());

type Method = 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'GET';
const send = (method: Method, url: string, payload?: object, headers: Record<string, string> = {}) =>
  ctx.app.inject({ method, url, payload, headers });

const validBody = (overrides: Record<string, unknown> = {}) => ({
  title: 'Lagos Tech Bootcamp',
  description: '3-day immersive coding event',
  location: 'Lagos, Nigeria',
  date_time: '2030-08-01T09:00:00Z',
  capacity: 50,
  event_ticket_sells_off_soon: 5,
  ...overrides,
});

describe('POST /events/create/', () => {
  it('is for organizers only: 401 anonymous, 403 plain user', async () => {
    expect((await send('POST', '/events/create/', validBody())).statusCode).toBe(401);
    const plain = await send('POST', '/events/create/', validBody(), user.auth);
    expect(plain.statusCode).toBe(403);
    expect(plain.json().code).toBe('permission_denied');
  });

  it('creates with the contract fields; the organizer is the caller, never the body', async () => {
    const category = await createCategory(ctx.app);
    const res = await send(
      'POST',
      '/events/create/',
      validBody({ category: category.id, organizer: otherOrganizer.id, status: 'cancelled', registered_count: 9 }),
      owner.auth,
    );
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      id: expect.any(String),
      title: 'Lagos Tech Bootcamp',
      description: '3-day immersive coding event',
      location: 'Lagos, Nigeria',
      date_time: '2030-08-01T09:00:00.000Z',
      end_time: null,
      capacity: 50,
      registered_count: 0,
      waitlist_count: 0,
      event_ticket_sells_off_soon: 5,
      tickets_remaining: 50,
      is_selling_out_soon: false,
      is_sold_out: false,
      is_active: true,
      status: 'published',
      is_recurring: false,
      organizer: owner.id,
      category: category.id,
      rating_average: null,
      rating_count: 0,
      created_at: '2030-01-01T00:00:00.000Z',
      updated_at: '2030-01-01T00:00:00.000Z',
    });
  });

  it('reports each invalid field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ title: '' }, 'title'],
      [{ title: '   ' }, 'title'],
      [{ title: 'x'.repeat(201) }, 'title'],
      [{ location: '' }, 'location'],
      [{ location: 'y'.repeat(201) }, 'location'],
      [{ date_time: '2029-12-31T23:59:59Z' }, 'date_time'],
      [{ date_time: '2030-01-01T00:00:00Z' }, 'date_time'],
      [{ date_time: 'tomorrow' }, 'date_time'],
      [{ capacity: 0 }, 'capacity'],
      [{ capacity: 1_000_001 }, 'capacity'],
      [{ capacity: 2.5 }, 'capacity'],
      [{ capacity: 10, event_ticket_sells_off_soon: 11 }, 'event_ticket_sells_off_soon'],
      [{ event_ticket_sells_off_soon: -1 }, 'event_ticket_sells_off_soon'],
      [{ category: '00000000-0000-4000-8000-000000000000' }, 'category'],
      [{ category: 'music' }, 'category'],
      [{ end_time: '2030-08-01T09:00:00Z' }, 'end_time'],
      [{ end_time: '2030-08-01T08:00:00Z' }, 'end_time'],
    ];
    for (const [overrides, field] of cases) {
      const res = await send('POST', '/events/create/', validBody(overrides), owner.auth);
      expect(res.statusCode, JSON.stringify(overrides)).toBe(400);
      expect(Object.keys(res.json()), JSON.stringify(overrides)).toEqual([field]);
    }
    const missing = await send('POST', '/events/create/', {}, owner.auth);
    expect(Object.keys(missing.json()).sort()).toEqual(['capacity', 'date_time', 'location', 'title']);
  });

  it('accepts the limits, an end time and no category', async () => {
    const res = await send(
      'POST',
      '/events/create/',
      validBody({ capacity: 1_000_000, event_ticket_sells_off_soon: 1_000_000, end_time: '2030-08-01T17:00:00+02:00', category: null }),
      owner.auth,
    );
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ capacity: 1_000_000, end_time: '2030-08-01T15:00:00.000Z', category: null });
  });
});

describe('GET /events/<id>/', () => {
  it('shows an active event to anyone, past ones included', async () => {
    const past = await createEvent(ctx.app, owner, { dateTime: new Date('2029-06-01T10:00:00Z') });
    const res = await send('GET', `/events/${past.id}/`);
    expect(res.statusCode).toBe(200);
    expect(res.json().id).toBe(past.id);
    expect((await send('GET', '/events/00000000-0000-4000-8000-000000000000/')).statusCode).toBe(404);
    expect((await send('GET', '/events/nope/')).statusCode).toBe(404);
  });

  it('shows a cancelled event only to its organizer and staff', async () => {
    const event = await createEvent(ctx.app, owner, { isActive: false });
    const url = `/events/${event.id}/`;
    expect((await send('GET', url)).statusCode).toBe(404);
    expect((await send('GET', url, undefined, user.auth)).statusCode).toBe(404);
    expect((await send('GET', url, undefined, otherOrganizer.auth)).statusCode).toBe(404);
    expect((await send('GET', url, undefined, owner.auth)).json().is_active).toBe(false);
    expect((await send('GET', url, undefined, staff.auth)).statusCode).toBe(200);
  });

  it('computes tickets_remaining and the sell-out flags at their edges', async () => {
    const cases: [number, number, number, { remaining: number; soon: boolean; soldOut: boolean }][] = [
      // capacity, threshold, registered
      [10, 3, 6, { remaining: 4, soon: false, soldOut: false }],
      [10, 3, 7, { remaining: 3, soon: true, soldOut: false }],
      [10, 3, 9, { remaining: 1, soon: true, soldOut: false }],
      [10, 3, 10, { remaining: 0, soon: false, soldOut: true }],
      [10, 0, 9, { remaining: 1, soon: false, soldOut: false }],
      [10, 10, 0, { remaining: 10, soon: true, soldOut: false }],
    ];
    for (const [capacity, threshold, registered, expected] of cases) {
      const event = await createEvent(ctx.app, owner, { capacity, sellsOffSoonThreshold: threshold, registeredCount: registered });
      const json = (await send('GET', `/events/${event.id}/`)).json();
      expect(
        { remaining: json.tickets_remaining, soon: json.is_selling_out_soon, soldOut: json.is_sold_out },
        `${capacity}/${threshold}/${registered}`,
      ).toEqual(expected);
    }
  });

  it('shows the rating average with one decimal, null without ratings', async () => {
    const rated = await createEvent(ctx.app, owner, { ratingSum: 14, ratingCount: 3 });
    expect((await send('GET', `/events/${rated.id}/`)).json()).toMatchObject({ rating_average: 4.7, rating_count: 3 });
  });
});

describe('PUT/PATCH /events/<id>/edit/', () => {
  it('lets only the owner and staff edit: 401 anonymous, 403 plain user and other organizer', async () => {
    const event = await createEvent(ctx.app, owner);
    const url = `/events/${event.id}/edit/`;
    expect((await send('PATCH', url, { title: 'a' })).statusCode).toBe(401);
    expect((await send('PATCH', url, { title: 'b' }, user.auth)).statusCode).toBe(403);
    expect((await send('PATCH', url, { title: 'c' }, otherOrganizer.auth)).statusCode).toBe(403);
    expect((await send('PUT', url, validBody({ title: 'd' }), otherOrganizer.auth)).statusCode).toBe(403);
    ctx.clock.advance(60_000);
    const mine = await send('PATCH', url, { title: 'By owner' }, owner.auth);
    expect(mine.statusCode).toBe(200);
    expect(mine.json()).toMatchObject({ title: 'By owner', organizer: owner.id, location: event.location });
    expect(mine.json().updated_at).toBe(ctx.clock.now().toISOString());
    const byStaff = await send('PATCH', url, { title: 'By staff' }, staff.auth);
    expect(byStaff.statusCode).toBe(200);
    expect(byStaff.json()).toMatchObject({ title: 'By staff', organizer: owner.id });
    expect((await send('GET', `/events/${event.id}/`)).json().title).toBe('By staff');
  });

  it('PUT needs the required fields and keeps omitted optional ones', async () => {
    const category = await createCategory(ctx.app);
    const event = await createEvent(ctx.app, owner, { categoryId: category.id, sellsOffSoonThreshold: 4 });
    const url = `/events/${event.id}/edit/`;
    const partial = await send('PUT', url, { title: 'Only a title' }, owner.auth);
    expect(partial.statusCode).toBe(400);
    expect(Object.keys(partial.json()).sort()).toEqual(['capacity', 'date_time', 'location']);
    const full = await send('PUT', url, validBody({ title: 'Replaced', event_ticket_sells_off_soon: undefined }), owner.auth);
    expect(full.statusCode).toBe(200);
    expect(full.json()).toMatchObject({ title: 'Replaced', category: category.id, event_ticket_sells_off_soon: 4 });
    const cleared = await send('PATCH', url, { category: null, end_time: '2030-08-01T10:00:00Z' }, owner.auth);
    expect(cleared.json()).toMatchObject({ category: null, end_time: '2030-08-01T10:00:00.000Z' });
    expect((await send('PATCH', url, { end_time: null }, owner.auth)).json().end_time).toBeNull();
  });

  it('refuses capacity below registered_count, and checks fields against the merged event', async () => {
    const event = await createEvent(ctx.app, owner, { capacity: 20, registeredCount: 8, sellsOffSoonThreshold: 5 });
    const url = `/events/${event.id}/edit/`;
    const below = await send('PATCH', url, { capacity: 7 }, owner.auth);
    expect(below.statusCode).toBe(400);
    expect(Object.keys(below.json())).toEqual(['capacity']);
    const threshold = await send('PATCH', url, { capacity: 8, event_ticket_sells_off_soon: 9 }, owner.auth);
    expect(Object.keys(threshold.json())).toEqual(['event_ticket_sells_off_soon']);
    expect((await send('PATCH', url, { capacity: 4 }, owner.auth)).json()).toHaveProperty('capacity');
    const exact = await send('PATCH', url, { capacity: 8, event_ticket_sells_off_soon: 0 }, owner.auth);
    expect(exact.statusCode).toBe(200);
    expect(exact.json()).toMatchObject({ capacity: 8, tickets_remaining: 0, is_sold_out: true });
    const raised = await send('PATCH', url, { capacity: 30 }, owner.auth);
    expect(raised.json()).toMatchObject({ capacity: 30, tickets_remaining: 22, is_sold_out: false });

    const end = await send('PATCH', url, { end_time: event.dateTime.toISOString() }, owner.auth);
    expect(Object.keys(end.json())).toEqual(['end_time']);
    const moved = await send('PATCH', url, { date_time: '2029-01-01T00:00:00Z' }, owner.auth);
    expect(Object.keys(moved.json())).toEqual(['date_time']);
    const category = await send('PATCH', url, { category: '00000000-0000-4000-8000-000000000000' }, owner.auth);
    expect(Object.keys(category.json())).toEqual(['category']);
    expect((await send('PATCH', url, { title: ' ' }, owner.auth)).json()).toEqual({ title: ['This field may not be blank.'] });
  });

  it('accepts the unchanged start of an event that already began, but not a move into the past', async () => {
    const started = await createEvent(ctx.app, owner, { dateTime: new Date('2029-12-31T22:00:00Z') });
    const url = `/events/${started.id}/edit/`;
    const same = await send('PUT', url, validBody({ date_time: '2029-12-31T23:00:00+01:00', title: 'Same start' }), owner.auth);
    expect(same.statusCode).toBe(200);
    expect(same.json().title).toBe('Same start');
    expect((await send('PATCH', url, { date_time: '2029-12-31T21:00:00Z' }, owner.auth)).statusCode).toBe(400);
  });

  it('refuses to edit a cancelled event (409), and hides it from others (404)', async () => {
    const event = await createEvent(ctx.app, owner, { isActive: false, cancelledAt: ctx.clock.now() });
    const url = `/events/${event.id}/edit/`;
    const res = await send('PATCH', url, { title: 'revive' }, owner.auth);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('event_cancelled');
    expect((await send('PATCH', url, { title: 'x' }, otherOrganizer.auth)).statusCode).toBe(404);
  });

  it.skipIf(!onPostgres)('waits for the event row lock, so a capacity cut sees seats taken meanwhile', async () => {
    const event = await createEvent(ctx.app, owner, { capacity: 10, registeredCount: 3 });
    const client = await ctx.database.pool!.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT id FROM events WHERE id = $1 FOR UPDATE', [event.id]);
      const cut = send('PATCH', `/events/${event.id}/edit/`, { capacity: 5 }, owner.auth);
      await new Promise((resolve) => setTimeout(resolve, 300));
      // A registration holding the lock takes 5 more seats, then commits.
      await client.query('UPDATE events SET registered_count = 8 WHERE id = $1', [event.id]);
      await client.query('COMMIT');
      const res = await cut;
      expect(res.statusCode).toBe(400);
      expect(res.json().capacity[0]).toContain('8 seats');
    } finally {
      client.release();
    }
    expect((await findEventById(ctx.app.db, event.id))!.capacity).toBe(10);
  });
});

describe('DELETE /events/<id>/edit/ (cancellation)', () => {
  it('lets only the owner and staff cancel; the event stays as history for them', async () => {
    const event = await createEvent(ctx.app, owner);
    const url = `/events/${event.id}/edit/`;
    expect((await send('DELETE', url)).statusCode).toBe(401);
    expect((await send('DELETE', url, undefined, user.auth)).statusCode).toBe(403);
    expect((await send('DELETE', url, undefined, otherOrganizer.auth)).statusCode).toBe(403);
    expect((await send('GET', `/events/${event.id}/`)).statusCode).toBe(200);
    ctx.clock.advance(1000);
    expect((await send('DELETE', url, undefined, owner.auth)).statusCode).toBe(204);
    const kept = await send('GET', `/events/${event.id}/`, undefined, owner.auth);
    expect(kept.json()).toMatchObject({ id: event.id, is_active: false, updated_at: ctx.clock.now().toISOString() });
    expect((await send('GET', `/events/${event.id}/`)).statusCode).toBe(404);
    expect((await send('GET', `/events/?organizer=${owner.id}`)).json().results.map((e: { id: string }) => e.id)).not.toContain(event.id);
    expect((await send('DELETE', url, undefined, owner.auth)).statusCode).toBe(204);
    expect((await send('DELETE', url, undefined, otherOrganizer.auth)).statusCode).toBe(404);
  });

  it('lets staff cancel any event', async () => {
    const event = await createEvent(ctx.app, owner);
    expect((await send('DELETE', `/events/${event.id}/edit/`, undefined, staff.auth)).statusCode).toBe(204);
    expect((await send('GET', `/events/${event.id}/`, undefined, staff.auth)).json().is_active).toBe(false);
    expect((await send('DELETE', '/events/00000000-0000-4000-8000-000000000000/edit/', undefined, staff.auth)).statusCode).toBe(404);
  });
});

describe('GET /events/mine/', () => {
  it('lists the caller’s own events, past and cancelled included, newest first by default', async () => {
    const organizer = await createOrganizer(ctx.app);
    const past = await createEvent(ctx.app, organizer, { dateTime: new Date('2029-01-01T00:00:00Z') });
    const cancelled = await createEvent(ctx.app, organizer, { isActive: false, dateTime: new Date('2030-03-01T00:00:00Z') });
    const upcoming = await createEvent(ctx.app, organizer, { dateTime: new Date('2030-02-01T00:00:00Z') });
    await createEvent(ctx.app, otherOrganizer);
    expect((await send('GET', '/events/mine/')).statusCode).toBe(401);
    const res = await send('GET', '/events/mine/', undefined, organizer.auth);
    expect(res.statusCode).toBe(200);
    expect(res.json().count).toBe(3);
    expect(res.json().results.map((e: { id: string }) => e.id)).toEqual([cancelled.id, upcoming.id, past.id]);
    const asc = await send('GET', '/events/mine/?ordering=date_time&page_size=2', undefined, organizer.auth);
    expect(asc.json().results.map((e: { id: string }) => e.id)).toEqual([past.id, upcoming.id]);
    expect(asc.json().next).toContain('page=2');
    expect((await send('GET', '/events/mine/?ordering=price', undefined, organizer.auth)).json()).toHaveProperty('ordering');
    expect((await send('GET', '/events/mine/', undefined, user.auth)).json().count).toBe(0);
  });
});

describe('GET /events/<id>/calendar.ics', () => {
  const unfold = (text: string) => text.replace(/\r\n /g, '');

  it('serves RFC 5545 text: CRLF lines of at most 75 octets, escaped text, UTC times', async () => {
    const title = `Réunion; annuelle, des "amis" \\ ${'très longue '.repeat(8)}`;
    const event = await createEvent(ctx.app, owner, {
      title,
      description: 'Line one\nLine two, with comma',
      location: 'Hall 1; Building B',
      dateTime: new Date('2030-06-01T09:30:00Z'),
      endTime: new Date('2030-06-01T12:00:00Z'),
    });
    const res = await send('GET', `/events/${event.id}/calendar.ics`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/calendar; charset=utf-8');
    const body = res.body;
    expect(body.endsWith('\r\n')).toBe(true);
    expect(body.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const physical = body.split('\r\n').slice(0, -1);
    for (const line of physical) expect(Buffer.byteLength(line), line).toBeLessThanOrEqual(75);
    expect(physical.some((line) => line.startsWith(' '))).toBe(true);
    const lines = unfold(body).split('\r\n');
    expect(lines[0]).toBe('BEGIN:VCALENDAR');
    expect(lines).toContain('VERSION:2.0');
    expect(lines).toContain(`UID:${event.id}@event-ticketing-api`);
    expect(lines).toContain(
      `DTSTAMP:${ctx.clock
        .now()
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d{3}/, '')}`,
    );
    expect(lines).toContain('DTSTART:20300601T093000Z');
    expect(lines).toContain('DTEND:20300601T120000Z');
    expect(lines).toContain(`SUMMARY:${title.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,')}`);
    expect(lines).toContain('DESCRIPTION:Line one\\nLine two\\, with comma');
    expect(lines).toContain('LOCATION:Hall 1\\; Building B');
    expect(lines).toContain('STATUS:CONFIRMED');
    expect(lines.at(-2)).toBe('END:VCALENDAR');
  });

  it('ends an event without end time an hour after its start; cancelled events only for organizer and staff', async () => {
    const event = await createEvent(ctx.app, owner, { dateTime: new Date('2030-06-01T23:30:00Z') });
    expect(unfold((await send('GET', `/events/${event.id}/calendar.ics`)).body)).toContain('DTEND:20300602T003000Z');
    const cancelled = await createEvent(ctx.app, owner, { isActive: false, cancelledAt: ctx.clock.now() });
    expect((await send('GET', `/events/${cancelled.id}/calendar.ics`)).statusCode).toBe(404);
    expect((await send('GET', `/events/${cancelled.id}/calendar.ics`, undefined, otherOrganizer.auth)).statusCode).toBe(404);
    const ownerView = await send('GET', `/events/${cancelled.id}/calendar.ics`, undefined, owner.auth);
    expect(ownerView.body).toContain('STATUS:CANCELLED');
    expect((await send('GET', `/events/${cancelled.id}/calendar.ics`, undefined, staff.auth)).statusCode).toBe(200);
  });
});
