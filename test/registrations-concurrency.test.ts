/**
 * Races against the seat rules. On PostgreSQL the requests go over real HTTP to TWO server processes sharing the
 * file's database, so only the database (the event row lock) can keep them honest. PGlite runs one transaction at
 * a time and cannot catch a missing lock; there the same races run in-process through inject.
 */
import { and, eq, ne, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events, registrations, tickets } from '../src/db/schema.js';
import { ManualClock } from '../src/lib/clock.js';
import { buildTestApp, type TestContext } from './helpers/app.js';
import { onPostgres } from './helpers/database.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';
import { authHeader, createEvent, createOrganizer, insertManyUsers, readEvent, type TestUser } from './helpers/factories.js';

let ctx: TestContext;
let organizer: TestUser;
const servers: ServerProcess[] = [];

beforeAll(async () => {
  // The server processes use the system clock, so the test's clock starts at real time for tokens to agree.
  ctx = await buildTestApp({ clock: new ManualClock(new Date()) });
  organizer = await createOrganizer(ctx.app);
  if (onPostgres) {
    const url = ctx.database.url!;
    const env = { DATABASE_URL: url, JWT_SECRET: ctx.config.jwtSecret, NODE_ENV: 'test' };
    servers.push(...(await Promise.all([startServer(env), startServer(env)])));
  }
}, 120_000);

afterAll(async () => {
  // SHOW_SERVER_LOGS=1 prints what the two server processes logged (at LOG_LEVEL=warn), to debug a failed race.
  for (const s of servers) if (process.env.SHOW_SERVER_LOGS) console.log(s.output());
  await Promise.all(servers.map((s) => s.stop()));
  await ctx?.close();
});

interface Call {
  method: 'GET' | 'POST';
  url: string;
  userId: string;
  body?: unknown;
  headers?: Record<string, string>;
}
interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed body, as res.json() gives it; the assertions check it
  json: any;
}

/** Sends call `i` to server `i % 2` over HTTP (PostgreSQL), or through inject (PGlite). */
async function send(call: Call, i: number): Promise<Answer> {
  const headers: Record<string, string> = { ...authHeader(ctx.app, call.userId), ...call.headers };
  if (servers.length > 0) {
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${servers[i % servers.length]!.baseUrl}${call.url}`, {
      method: call.method,
      headers,
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
    });
    return { status: res.status, json: await res.json() };
  }
  const res = await ctx.app.inject({ method: call.method, url: call.url, headers, payload: call.body as object | undefined });
  return { status: res.statusCode, json: res.json() };
}

/** Fires every call at once and waits for all answers. */
async function race(calls: Call[]): Promise<{ answers: Answer[]; elapsedMs: number }> {
  ctx.clock.set(new Date()); // fresh tokens
  const started = performance.now();
  const answers = await Promise.all(calls.map((call, i) => send(call, i)));
  return { answers, elapsedMs: Math.round(performance.now() - started) };
}

/** The seat invariants, read straight from the database. */
async function checkSeatInvariants(eventId: string) {
  const event = await readEvent(ctx.app, eventId);
  const regs = await ctx.app.db.select().from(registrations).where(eq(registrations.eventId, eventId));
  const registered = regs.filter((r) => r.status === 'registered');
  const waitlisted = regs.filter((r) => r.status === 'waitlisted');
  const seats = registered.reduce((sum, r) => sum + r.quantity, 0);
  expect(event.registeredCount).toBe(seats);
  expect(seats).toBeLessThanOrEqual(event.capacity);
  expect(event.waitlistCount).toBe(waitlisted.length);
  // Nobody waits while there are seats they could use.
  const free = event.capacity - seats;
  for (const order of waitlisted) expect(order.quantity).toBeGreaterThan(free);

  const liveTickets = await ctx.app.db
    .select({ registrationId: tickets.registrationId, code: tickets.code })
    .from(tickets)
    .innerJoin(registrations, eq(registrations.id, tickets.registrationId))
    .where(and(eq(tickets.eventId, eventId), eq(registrations.status, 'registered')));
  expect(liveTickets).toHaveLength(seats);
  for (const order of registered) {
    expect(liveTickets.filter((t) => t.registrationId === order.id)).toHaveLength(order.quantity);
  }
  const [codes] = await ctx.app.db
    .select({ all: sql<number>`count(*)::int`, distinct: sql<number>`count(distinct ${tickets.code})::int` })
    .from(tickets)
    .where(eq(tickets.eventId, eventId));
  expect(codes!.distinct).toBe(codes!.all);
  return { event, registered, waitlisted, seats };
}

const where = () => (onPostgres ? 'two server processes on PostgreSQL' : 'in-process on PGlite');

describe(`concurrent registrations (${onPostgres ? 'PostgreSQL, 2 processes' : 'PGlite'})`, () => {
  const CAPACITY = 20;
  // The proof is the PostgreSQL run; PGlite serializes everything and only needs to agree, at the minimum.
  const REQUESTS = onPostgres ? 240 : 200;
  let eventId: string;

  it(`never oversells: ${REQUESTS} simultaneous orders of 1-3 seats at a ${CAPACITY}-seat event`, async () => {
    const event = await createEvent(ctx.app, organizer, {
      capacity: CAPACITY,
      dateTime: new Date(Date.now() + 30 * 24 * 3600 * 1000),
    });
    eventId = event.id;
    const people = await insertManyUsers(ctx.app, REQUESTS);
    const { answers, elapsedMs } = await race(
      people.map((p, i) => ({
        method: 'POST',
        url: '/registrations/',
        userId: p.id,
        body: { event: event.id, quantity: (i % 3) + 1 },
      })),
    );
    const statuses = answers.map((a) => a.status);
    expect(
      statuses.filter((s) => s !== 201),
      JSON.stringify(answers.find((a) => a.status !== 201)),
    ).toEqual([]);

    const { registered, waitlisted, seats } = await checkSeatInvariants(event.id);
    expect(seats).toBe(CAPACITY);
    expect(registered.length + waitlisted.length).toBe(REQUESTS);
    // Every answer agrees with the database.
    const registeredIds = new Set(registered.map((r) => r.id));
    for (const a of answers) {
      expect(a.json.status).toBe(registeredIds.has(a.json.id) ? 'registered' : 'waitlisted');
      expect(a.json.ticket_instances).toHaveLength(a.json.status === 'registered' ? a.json.quantity : 0);
    }
    const codes = answers.flatMap((a) => a.json.ticket_instances.map((t: { code: string }) => t.code));
    expect(codes).toHaveLength(CAPACITY);
    expect(new Set(codes).size).toBe(CAPACITY);
    console.log(
      `[concurrency] ${where()}: ${REQUESTS} registrations fired at once in ${elapsedMs} ms; ` +
        `${seats}/${CAPACITY} seats in ${registered.length} orders, ${waitlisted.length} orders waitlisted, ` +
        `${codes.length} unique ticket codes, 0 errors`,
    );
  }, 180_000);

  it('concurrent cancels free each seat once and promote the waiting list exactly', async () => {
    const regs = await ctx.app.db
      .select()
      .from(registrations)
      .where(and(eq(registrations.eventId, eventId), ne(registrations.status, 'cancelled')));
    const victims = [
      ...regs.filter((r) => r.status === 'registered').slice(0, 4),
      ...regs.filter((r) => r.status === 'waitlisted').slice(0, 4),
    ];
    const calls: Call[] = victims.flatMap((r) => {
      const call: Call = { method: 'POST', url: `/registrations/${r.id}/cancel/`, userId: r.userId };
      return [call, call]; // each cancellation sent twice, to different processes
    });
    const { answers, elapsedMs } = await race(calls);
    for (let i = 0; i < victims.length; i++) {
      const pair = [answers[2 * i]!, answers[2 * i + 1]!].map((a) => a.status).sort();
      expect(pair).toEqual([200, 400]);
      expect([answers[2 * i]!, answers[2 * i + 1]!].find((a) => a.status === 400)!.json.code).toBe('already_cancelled');
    }
    const { seats, waitlisted } = await checkSeatInvariants(eventId);
    expect(seats).toBe(CAPACITY);
    console.log(
      `[concurrency] ${where()}: ${calls.length} cancels (${victims.length} orders, each twice) in ${elapsedMs} ms; ` +
        `seats back to ${seats}/${CAPACITY}, ${waitlisted.length} still waitlisted`,
    );
  });

  it('lets one of many identical registrations by the same user win; the others are 400', async () => {
    const event = await createEvent(ctx.app, organizer, { capacity: 5, dateTime: new Date(Date.now() + 24 * 3600 * 1000) });
    const [person] = await insertManyUsers(ctx.app, 1);
    const call: Call = { method: 'POST', url: '/registrations/', userId: person!.id, body: { event: event.id, quantity: 2 } };
    const { answers } = await race(Array(10).fill(call));
    expect(answers.map((a) => a.status).sort()).toEqual([201, ...Array(9).fill(400)]);
    expect(answers.filter((a) => a.status === 400).every((a) => a.json.code === 'already_registered')).toBe(true);
    const { registered } = await checkSeatInvariants(event.id);
    expect(registered).toHaveLength(1);
  });

  it('with one Idempotency-Key, simultaneous duplicates all get the first answer', async () => {
    const event = await createEvent(ctx.app, organizer, { capacity: 5, dateTime: new Date(Date.now() + 24 * 3600 * 1000) });
    const [person] = await insertManyUsers(ctx.app, 1);
    const call: Call = {
      method: 'POST',
      url: '/registrations/',
      userId: person!.id,
      body: { event: event.id, quantity: 2 },
      headers: { 'idempotency-key': 'double-click' },
    };
    const { answers } = await race(Array(6).fill(call));
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(201));
    expect(new Set(answers.map((a) => JSON.stringify(a.json))).size).toBe(1);
    const { registered, seats } = await checkSeatInvariants(event.id);
    expect([registered.length, seats]).toEqual([1, 2]);
  });

  it('admits a ticket once when it is scanned at two doors at the same moment', async () => {
    const event = await createEvent(ctx.app, organizer, { capacity: 5, dateTime: new Date(Date.now() + 24 * 3600 * 1000) });
    const [person] = await insertManyUsers(ctx.app, 1);
    const {
      answers: [reg],
    } = await race([{ method: 'POST', url: '/registrations/', userId: person!.id, body: { event: event.id, quantity: 1 } }]);
    const code = reg!.json.ticket_instances[0].code;
    const scan: Call = { method: 'POST', url: '/tickets/check-in/', userId: organizer.id, body: { code } };
    const { answers } = await race(Array(6).fill(scan));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409, 409, 409, 409]);
    const winner = answers.find((a) => a.status === 200)!;
    for (const loser of answers.filter((a) => a.status === 409)) {
      expect(loser.json).toMatchObject({ code: 'already_checked_in', used_at: winner.json.used_at });
    }
  });
});

describe('the events table', () => {
  it('refuses an oversold count even if a bug tried one (CHECK constraint)', async () => {
    const event = await createEvent(ctx.app, organizer, { capacity: 2 });
    await expect(ctx.app.db.update(events).set({ registeredCount: 3 }).where(eq(events.id, event.id))).rejects.toThrow();
  });
});
