import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.js';
import {
  DEFAULT_PASSWORD,
  authHeader,
  createEvent,
  createOrganizer,
  createStaff,
  createUser,
  insertManyUsers,
  readEvent,
} from './helpers/factories.js';
import { listenOnce, openSse } from './helpers/sse.js';

// Each case here is a defect the red team found (contract/hardening issue): the input that reached a 500 or
// misbehaved, and what it answers now.
const ctx = await buildTestApp({ env: { MAX_STREAMS_PER_USER: '3' } });
afterAll(async () => ctx.close());
const organizer = await createOrganizer(ctx.app);
const staff = await createStaff(ctx.app);
const user = await createUser(ctx.app);

describe('numeric strings that coerce to ±Infinity', () => {
  const infinite = ['Infinity', '-Infinity', '1e309', '-1e309', '9'.repeat(400)];

  it.each(infinite)('quantity %s is a 400 on quantity, not a 500', async (quantity) => {
    const event = await createEvent(ctx.app, organizer);
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/registrations/',
      headers: user.auth,
      payload: { event: event.id, quantity },
    });
    expect(res.statusCode).toBe(400);
    expect(Object.keys(res.json())).toEqual(['quantity']);
  });

  it.each(infinite)('page and page_size %s are a 400 naming the parameter', async (value) => {
    for (const param of ['page', 'page_size']) {
      const res = await ctx.app.inject({ url: `/events/?${param}=${value}` });
      expect(res.statusCode).toBe(400);
      expect(Object.keys(res.json())).toEqual([param]);
    }
  });

  it('the JSON number 1e309 (Infinity once parsed) is refused on capacity, the threshold and rating', async () => {
    const create = await ctx.app.inject({
      method: 'POST',
      url: '/events/create/',
      headers: { ...organizer.auth, 'content-type': 'application/json' },
      payload: `{"title":"T","location":"L","date_time":"2030-06-01T10:00:00Z","capacity":1e309,"event_ticket_sells_off_soon":-1e309}`,
    });
    expect(create.statusCode).toBe(400);
    expect(create.json()).toHaveProperty('capacity');
    const feedback = await ctx.app.inject({
      method: 'POST',
      url: '/feedbacks/',
      headers: { ...user.auth, 'content-type': 'application/json' },
      payload: `{"event":"${(await createEvent(ctx.app, organizer)).id}","rating":1e309}`,
    });
    expect(feedback.statusCode).toBe(400);
    expect(feedback.json()).toHaveProperty('rating');
  });

  it('one hostile order never fails the other orders of its registration batch (60 at once, every sixth hostile)', async () => {
    const event = await createEvent(ctx.app, organizer, { capacity: 30 });
    const people = await insertManyUsers(ctx.app, 60);
    const answers = await Promise.all(
      people.map((person, i) =>
        ctx.app.inject({
          method: 'POST',
          url: '/registrations/',
          headers: authHeader(ctx.app, person.id),
          payload: { event: event.id, quantity: i % 6 === 5 ? '-Infinity' : 1 },
        }),
      ),
    );
    const statuses = answers.map((a) => a.statusCode);
    expect(statuses.filter((s) => s === 400)).toHaveLength(10);
    expect(statuses.filter((s) => s === 201)).toHaveLength(50);
    expect(await readEvent(ctx.app, event.id)).toMatchObject({ registeredCount: 30, waitlistCount: 20 });
  });
});

describe('uuid spellings PostgreSQL refuses', () => {
  const urn = `urn:uuid:${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`;
  it('are a 404 as a path id and a 400 naming the field in a query or body', async () => {
    expect((await ctx.app.inject({ url: `/events/${urn}/` })).statusCode).toBe(404);
    expect((await ctx.app.inject({ url: `/registrations/${urn}/`, headers: user.auth })).statusCode).toBe(404);
    const list = await ctx.app.inject({ url: `/events/?organizer=${encodeURIComponent(urn)}` });
    expect(list.statusCode).toBe(400);
    expect(list.json()).toEqual({ organizer: ['Must be a valid UUID.'] });
    const body = await ctx.app.inject({ method: 'POST', url: '/registrations/', headers: user.auth, payload: { event: urn, quantity: 1 } });
    expect(body.statusCode).toBe(400);
    expect(body.json()).toEqual({ event: ['Must be a valid UUID.'] });
    const feedbacks = await ctx.app.inject({ url: `/feedbacks/?event=${encodeURIComponent(urn)}`, headers: user.auth });
    expect(feedbacks.statusCode).toBe(400);
  });
});

describe('date-times the validator accepted but nothing could store', () => {
  const create = (date_time: string) =>
    ctx.app.inject({
      method: 'POST',
      url: '/events/create/',
      headers: organizer.auth,
      payload: { title: 'Dates', location: 'Here', date_time, capacity: 5 },
    });

  it.each([
    '2030-06-30T23:59:60Z',
    '2030-06-01T10:00:00+01',
    '9999-12-31T23:59:59-23:59',
    '2030-02-30T10:00:00Z',
    '2030-06-01T10:00:00+24:00',
  ])('date_time %s is a 400 on date_time', async (value) => {
    const res = await create(value);
    expect(res.statusCode).toBe(400);
    expect(Object.keys(res.json())).toEqual(['date_time']);
  });

  it('still accepts offsets with minutes, fractions and lower-case separators', async () => {
    const res = await create('2030-06-01t10:00:00.123456+05:30');
    expect(res.statusCode).toBe(201);
    expect(res.json().date_time).toBe('2030-06-01T04:30:00.123Z');
  });

  it('list filters: the last representable day is no upper bound; an instant past 9999 is a 400 naming the filter', async () => {
    expect((await ctx.app.inject({ url: '/events/?date_to=9999-12-31' })).statusCode).toBe(200);
    const past = await ctx.app.inject({ url: `/events/?date_from=${encodeURIComponent('9999-12-31T23:59:59-23:59')}` });
    expect(past.statusCode).toBe(400);
    expect(Object.keys(past.json())).toEqual(['date_from']);
    const leap = await ctx.app.inject({ url: '/events/?date_to=2030-06-30T23:59:60Z' });
    expect(leap.statusCode).toBe(400);
  });
});

describe('deeply nested JSON', () => {
  const deep = `{"event":"${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}","quantity":1,"x":${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
  it.each([
    ['POST', '/registrations/'],
    ['POST', '/tickets/check-in/'],
  ])('%s %s with an Idempotency-Key is a 400, not a stack overflow', async (method, url) => {
    const res = await ctx.app.inject({
      method: method as 'POST',
      url,
      headers: { ...staff.auth, 'idempotency-key': 'deep-1', 'content-type': 'application/json' },
      payload: deep,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ non_field_errors: ['JSON nested more than 32 levels deep is not accepted.'] });
  });
});

describe('the notification stream', () => {
  it('answers HEAD at once with the stream headers and no body', async () => {
    const base = await listenOnce(ctx.app);
    const { port } = ctx.app.server.address() as AddressInfo;
    expect(base).toContain(String(port));
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const request = http.request({
        host: '127.0.0.1',
        port,
        method: 'HEAD',
        path: '/notifications/stream/',
        headers: user.auth,
        timeout: 5_000,
      });
      request
        .on('response', resolve)
        .on('error', reject)
        .on('timeout', () => reject(new Error('HEAD never answered')));
      request.end();
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
  });

  it('keeps a stream whose Last-Event-ID lies past the year 9999 open, serving live notifications', async () => {
    const base = await listenOnce(ctx.app);
    const someone = await createUser(ctx.app);
    const stream = await openSse(`${base}/notifications/stream/`, {
      ...someone.auth,
      'last-event-id': `999999999999999-${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`,
    });
    try {
      expect(stream.status).toBe(200);
      await stream.waitForComment('connected');
      const event = await createEvent(ctx.app, organizer);
      await ctx.app.inject({ method: 'POST', url: '/registrations/', headers: someone.auth, payload: { event: event.id, quantity: 1 } });
      const [message] = await stream.waitForMessages(1);
      expect(JSON.parse(message!.data)).toMatchObject({ kind: 'registered' });
    } finally {
      stream.close();
    }
  });

  it('caps the streams one user holds open (MAX_STREAMS_PER_USER): one more is a 429, and a closed one frees its place', async () => {
    const base = await listenOnce(ctx.app);
    const someone = await createUser(ctx.app);
    const open = await Promise.all([1, 2, 3].map(() => openSse(`${base}/notifications/stream/`, someone.auth)));
    try {
      expect(open.map((s) => s.status)).toEqual([200, 200, 200]);
      const refused = await openSse(`${base}/notifications/stream/`, someone.auth);
      expect(refused.status).toBe(429);
      expect(refused.errorBody).toMatchObject({ code: 'too_many_streams' });
      // Another user is not affected by it.
      const other = await openSse(`${base}/notifications/stream/`, user.auth);
      expect(other.status).toBe(200);
      other.close();
      open.shift()!.close();
      let again = await openSse(`${base}/notifications/stream/`, someone.auth);
      for (let i = 0; again.status !== 200 && i < 50; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20)); // the server sees the close a moment later
        again = await openSse(`${base}/notifications/stream/`, someone.auth);
      }
      expect(again.status).toBe(200);
      open.push(again);
    } finally {
      open.forEach((s) => s.close());
    }
  });
});

describe('links in responses never come from an untrusted Host header', () => {
  it('a forged Host gets links to the configured base; loopback hosts keep their own', async () => {
    const forged = await ctx.app.inject({ url: '/auth/all/?page_size=1', headers: { ...staff.auth, host: 'evil.example' } });
    expect(forged.statusCode).toBe(200);
    expect(forged.json().next).toBe(`http://localhost:${ctx.config.port}/auth/all/?page_size=1&page=2`);
    const local = await ctx.app.inject({ url: '/auth/all/?page_size=1', headers: { ...staff.auth, host: '127.0.0.1:8123' } });
    expect(local.json().next).toBe('http://127.0.0.1:8123/auth/all/?page_size=1&page=2');
  });

  it('PUBLIC_URL, when set, is the only base; the public cache never serves a page with a forged host in it', async () => {
    const cached = await buildTestApp({ env: { PUBLIC_CACHE_SECONDS: '60' }, database: ctx.database, clock: ctx.clock });
    const configured = await buildTestApp({
      env: { PUBLIC_URL: 'https://tickets.example.org/api/' },
      database: ctx.database,
      clock: ctx.clock,
    });
    try {
      await createEvent(ctx.app, organizer);
      await createEvent(ctx.app, organizer);
      const poisoned = await cached.app.inject({ url: '/events/?page_size=1', headers: { host: 'evil.example' } });
      expect(poisoned.json().next).not.toContain('evil.example');
      const later = await cached.app.inject({ url: '/events/?page_size=1' });
      expect(later.json().next).toMatch(/^http:\/\/localhost(:\d+)?\/events\/\?page_size=1&page=2$/);
      const fromConfig = await configured.app.inject({ url: '/events/?page_size=1', headers: { host: 'evil.example' } });
      expect(fromConfig.json().next).toBe('https://tickets.example.org/api/events/?page_size=1&page=2');
    } finally {
      await cached.close();
      await configured.close();
    }
  });
});

describe('the public cache never answers a page older than its lifetime plus a short grace', () => {
  it('after a quiet spell the first request gets a fresh page, not the old copy', async () => {
    const cached = await buildTestApp({ env: { PUBLIC_CACHE_SECONDS: '1' }, database: ctx.database, clock: ctx.clock });
    try {
      const event = await createEvent(ctx.app, organizer, { title: 'Old title' });
      const url = `/events/${event.id}/`;
      expect((await cached.app.inject({ url })).json().title).toBe('Old title');
      // Another worker renames it; the cache's lifetime passes many times over.
      await ctx.app.inject({ method: 'PATCH', url: `/events/${event.id}/edit/`, headers: organizer.auth, payload: { title: 'New title' } });
      ctx.clock.advance(6_000);
      const after = await cached.app.inject({ url });
      expect(after.json().title).toBe('New title');
    } finally {
      await cached.close();
    }
  });
});

describe('the login throttle', () => {
  it('counts failures of a very long email (was lost: the key overflowed its column)', async () => {
    const throttled = await buildTestApp({
      env: { RATE_LIMITS: 'on', LOGIN_FAILURES_PER_ACCOUNT: '3', LOGIN_FAILURES_PER_IP: '1000' },
      database: ctx.database,
      clock: ctx.clock,
    });
    try {
      const email = `${'a'.repeat(240)}@example.com`;
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        statuses.push(
          (await throttled.app.inject({ method: 'POST', url: '/auth/login/', payload: { email, password: 'wrong-password' } })).statusCode,
        );
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await throttled.close();
    }
  });

  it('counts logins by email and by username as one account', async () => {
    const throttled = await buildTestApp({
      env: { RATE_LIMITS: 'on', LOGIN_FAILURES_PER_ACCOUNT: '4', LOGIN_FAILURES_PER_IP: '1000' },
      database: ctx.database,
      clock: ctx.clock,
    });
    try {
      const victim = await createUser(ctx.app);
      const attempt = (payload: Record<string, string>) => throttled.app.inject({ method: 'POST', url: '/auth/login/', payload });
      const ways: Record<string, string>[] = [
        { email: victim.email },
        { username: victim.username },
        { email: victim.email.toUpperCase() },
        { username: victim.username },
      ];
      for (const payload of ways) {
        expect((await attempt({ ...payload, password: 'wrong-password' })).statusCode).toBe(401);
      }
      expect((await attempt({ email: victim.email, password: DEFAULT_PASSWORD })).statusCode).toBe(429);
      expect((await attempt({ username: victim.username, password: DEFAULT_PASSWORD })).statusCode).toBe(429);
    } finally {
      await throttled.close();
    }
  });
});
