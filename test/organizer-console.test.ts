import { afterAll, describe, expect, it } from 'vitest';
import { listenOnce, openSse, type SseStream } from './helpers/sse.js';
import {
  appWithOrganizer,
  authHeader,
  createEvent,
  createOrganizer,
  createStaff,
  createUser,
  registerFor,
  type TestUser,
} from './helpers/factories.js';

const ctx = appWithOrganizer();
const open: SseStream[] = [];
afterAll(() => open.forEach((s) => s.close()));

const DAY = 86_400_000;
const get = (url: string, user: TestUser) => ctx.app.inject({ url, headers: authHeader(ctx.app, user.id) });
const checkIn = (code: string, user: TestUser) =>
  ctx.app.inject({ method: 'POST', url: '/tickets/check-in/', headers: authHeader(ctx.app, user.id), payload: { code } });

describe('GET /events/<id>/stats/', () => {
  it('counts seats, the waiting list, check-ins and orders per UTC day, for the organizer and staff only', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { capacity: 3, dateTime: new Date(ctx.clock.now().getTime() + 30 * DAY) });
    const [ann, bob, cy] = [await createUser(ctx.app), await createUser(ctx.app), await createUser(ctx.app)];
    const first = (await registerFor(ctx.app, ann, event.id, 2)).json();
    ctx.clock.advance(DAY);
    await registerFor(ctx.app, bob, event.id, 1);
    await registerFor(ctx.app, cy, event.id, 2); // full: waitlisted
    expect((await checkIn(first.ticket_instances[0].code, ctx.organizer)).statusCode).toBe(200);

    const res = await get(`/events/${event.id}/stats/`, ctx.organizer);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      event: event.id,
      capacity: 3,
      registered_count: 3,
      waitlist_count: 1,
      tickets_remaining: 0,
      checked_in_count: 1,
      registrations_over_time: [
        { date: '2030-01-01', registrations: 1, seats: 2 },
        { date: '2030-01-02', registrations: 2, seats: 3 },
      ],
    });
    expect((await get(`/events/${event.id}/stats/`, await createStaff(ctx.app))).statusCode).toBe(200);
    expect((await get(`/events/${event.id}/stats/`, await createOrganizer(ctx.app))).statusCode).toBe(403);
    expect((await get(`/events/${event.id}/stats/`, ann)).statusCode).toBe(403);
    expect((await ctx.app.inject({ url: `/events/${event.id}/stats/` })).statusCode).toBe(401);
    expect((await get(`/events/00000000-0000-4000-8000-000000000000/stats/`, ctx.organizer)).statusCode).toBe(404);
  });
});

describe('GET /events/mine/?show=', () => {
  it('splits the organizer’s events into upcoming, past and inactive', async () => {
    const organizer = await createOrganizer(ctx.app);
    const now = ctx.clock.now().getTime();
    const soon = await createEvent(ctx.app, organizer, { title: 'Soon', dateTime: new Date(now + DAY) });
    const gone = await createEvent(ctx.app, organizer, { title: 'Gone', dateTime: new Date(now - DAY) });
    const hidden = await createEvent(ctx.app, organizer, { title: 'Hidden', dateTime: new Date(now + 2 * DAY), isActive: false });
    const titles = async (show?: string) =>
      (await get(`/events/mine/${show ? `?show=${show}` : ''}`, organizer)).json().results.map((e: { title: string }) => e.title);
    expect(await titles('upcoming')).toEqual([soon.title]);
    expect(await titles('past')).toEqual([gone.title]);
    expect(await titles('inactive')).toEqual([hidden.title]);
    expect(await titles()).toEqual(['Hidden', 'Soon', 'Gone']);
    expect((await get('/events/mine/?show=later', organizer)).statusCode).toBe(400);
  });
});

describe('GET /events/<id>/registrations/ for the attendees table', () => {
  it('searches by username, email or ticket code, sorts, and shows emails and check-in times', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { capacity: 10 });
    const zoe = await createUser(ctx.app, { username: 'zoe_door', email: 'zoe@example.org' });
    const adam = await createUser(ctx.app, { username: 'adam_100%', email: 'adam@example.net' });
    const zoeReg = (await registerFor(ctx.app, zoe, event.id, 2)).json();
    await registerFor(ctx.app, adam, event.id, 1);
    expect((await checkIn(zoeReg.ticket_instances[1].code, ctx.organizer)).statusCode).toBe(200);

    const list = async (query: string) => {
      const res = await get(`/events/${event.id}/registrations/?${query}`, ctx.organizer);
      expect(res.statusCode, res.body).toBe(200);
      return res.json();
    };
    const byCode = await list(`search=${zoeReg.ticket_instances[0].code.slice(4, 12).toLowerCase()}`);
    expect(byCode.count).toBe(1);
    expect(byCode.results[0]).toMatchObject({
      id: zoeReg.id,
      username: 'zoe_door',
      email: 'zoe@example.org',
      ticket_instances: [
        { code: zoeReg.ticket_instances[0].code, is_used: false, used_at: null },
        { code: zoeReg.ticket_instances[1].code, is_used: true, used_at: ctx.clock.now().toISOString() },
      ],
    });
    expect((await list('search=EXAMPLE.NET')).results.map((r: { username: string }) => r.username)).toEqual(['adam_100%']);
    // LIKE's wildcards are matched as themselves.
    expect((await list('search=100%25')).count).toBe(1);
    expect((await list('search=_door')).count).toBe(1);
    expect((await list('search=nobody')).count).toBe(0);
    expect((await list('ordering=username')).results.map((r: { username: string }) => r.username)).toEqual(['adam_100%', 'zoe_door']);
    expect((await list('ordering=-username')).results.map((r: { username: string }) => r.username)).toEqual(['zoe_door', 'adam_100%']);
    expect((await list('ordering=-quantity&page_size=1')).results[0].username).toBe('zoe_door');
    expect((await get(`/events/${event.id}/registrations/?ordering=age`, ctx.organizer)).statusCode).toBe(400);

    const csv = await get(`/events/${event.id}/registrations/?format=csv&search=zoe`, ctx.organizer);
    const lines = csv.body.trim().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('zoe_door');
  });
});

describe('live organizer activity on the notification stream', () => {
  it('tells the organizer and staff, not other organizers, after each registration, check-in and edit commits', async () => {
    const base = await listenOnce(ctx.app);
    const stream = async (user: TestUser) => {
      const sse = await openSse(`${base}/notifications/stream/`, authHeader(ctx.app, user.id));
      open.push(sse);
      await sse.waitForComment('connected');
      return sse;
    };
    const organizer = await createOrganizer(ctx.app);
    const event = await createEvent(ctx.app, organizer, { capacity: 5 });
    const [mine, staffs, others] = [
      await stream(organizer),
      await stream(await createStaff(ctx.app)),
      await stream(await createOrganizer(ctx.app)),
    ];
    const activity = (sse: SseStream) => sse.messages.filter((m) => m.event === 'event_activity').map((m) => JSON.parse(m.data));

    const guest = await createUser(ctx.app);
    const reg = (await registerFor(ctx.app, guest, event.id, 1)).json();
    await mine.waitForMessages(1);
    expect(activity(mine)).toEqual([{ event: event.id }]);
    expect(mine.messages[0]!.id).toBeUndefined();
    expect((await checkIn(reg.ticket_instances[0].code, organizer)).statusCode).toBe(200);
    await mine.waitForMessages(2);
    const edit = await ctx.app.inject({
      method: 'PATCH',
      url: `/events/${event.id}/edit/`,
      headers: authHeader(ctx.app, organizer.id),
      payload: { title: 'Renamed' },
    });
    expect(edit.statusCode).toBe(200);
    await mine.waitForMessages(3);
    expect(activity(mine)).toHaveLength(3);
    await staffs.waitForMessages(3);
    // The other organizer's stream saw none of it (a refused edit announces nothing either).
    const refused = await ctx.app.inject({
      method: 'PATCH',
      url: `/events/${event.id}/edit/`,
      headers: authHeader(ctx.app, organizer.id),
      payload: { capacity: 0 },
    });
    expect(refused.statusCode).toBe(400);
    const guest2 = await createUser(ctx.app);
    await registerFor(ctx.app, guest2, event.id, 1);
    await mine.waitForMessages(4);
    expect(others.messages).toEqual([]);
    // The attendee's own stream carries notifications only.
    expect(activity(mine)).toHaveLength(4);
  });
});
