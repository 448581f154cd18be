import { describe, expect, it } from 'vitest';
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

/** POST /tickets/check-in/ as `user`; `door` is the event being checked in, `key` an Idempotency-Key. */
const checkIn = (code: string, user: TestUser, { door, key }: { door?: string; key?: string } = {}) =>
  ctx.app.inject({
    method: 'POST',
    url: '/tickets/check-in/',
    headers: { ...authHeader(ctx.app, user.id), ...(key ? { 'idempotency-key': key } : {}) },
    payload: { code, ...(door ? { event: door } : {}) },
  });
const getTicket = (code: string, user: TestUser) =>
  ctx.app.inject({ method: 'GET', url: `/tickets/${encodeURIComponent(code)}/`, headers: authHeader(ctx.app, user.id) });

/** A registered holder with `quantity` tickets at a fresh event of `organizer`. */
async function ticketHolder(quantity = 2) {
  const event = await createEvent(ctx.app, ctx.organizer, { title: 'Door Test' });
  const holder = await createUser(ctx.app);
  const res = await registerFor(ctx.app, holder, event.id, quantity);
  expect(res.statusCode).toBe(201);
  const reg = res.json();
  return { event, holder, reg, codes: reg.ticket_instances.map((t: { code: string }) => t.code) as string[] };
}

describe('POST /tickets/check-in/', () => {
  it('checks a ticket in once, returning ticket, seat, holder and event; a second scan is 409 with used_at', async () => {
    const { event, holder, reg, codes } = await ticketHolder();
    const res = await checkIn(codes[1]!, ctx.organizer);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      id: reg.ticket_instances[1].id,
      code: codes[1],
      seat: 2,
      quantity: 2,
      is_used: true,
      used_at: '2030-01-01T00:00:00.000Z',
      used_by: { id: ctx.organizer.id, username: ctx.organizer.username },
      status: 'used',
      registration: reg.id,
      holder: { id: holder.id, username: holder.username },
      event: { id: event.id, title: 'Door Test', date_time: event.dateTime.toISOString() },
    });

    ctx.clock.advance(60_000);
    const again = await checkIn(codes[1]!, ctx.organizer);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({
      detail: `This ticket has already been checked in by ${ctx.organizer.username}.`,
      code: 'already_checked_in',
      used_at: '2030-01-01T00:00:00.000Z',
      used_by: { id: ctx.organizer.id, username: ctx.organizer.username },
    });
    // The other seat is still valid, and the registration shows which seat was used.
    expect((await getTicket(codes[0]!, holder)).json()).toMatchObject({ status: 'valid', is_used: false });
    const seen = await ctx.app.inject({ url: `/registrations/${reg.id}/`, headers: authHeader(ctx.app, holder.id) });
    expect(seen.json().ticket_instances.map((t: { is_used: boolean }) => t.is_used)).toEqual([false, true]);
  });

  it('refuses a cancelled registration’s ticket with 409 and an unknown code with 404', async () => {
    const { holder, reg, codes } = await ticketHolder(1);
    const cancelled = await ctx.app.inject({
      method: 'POST',
      url: `/registrations/${reg.id}/cancel/`,
      headers: authHeader(ctx.app, holder.id),
    });
    expect(cancelled.statusCode).toBe(200);
    const res = await checkIn(codes[0]!, ctx.organizer);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'registration_cancelled' });
    expect((await getTicket(codes[0]!, holder)).json()).toMatchObject({ status: 'cancelled', is_used: false });

    const unknown = await checkIn('EVT-0000000000AA-1', ctx.organizer);
    expect(unknown.statusCode).toBe(404);
    expect((await checkIn('', ctx.organizer)).statusCode).toBe(400);
  });

  it('answers 404 to an organizer of another event, 403 to a non-organizer, and lets staff check in', async () => {
    const { codes } = await ticketHolder(2);
    const otherOrganizer = await createOrganizer(ctx.app);
    const other = await checkIn(codes[0]!, otherOrganizer);
    expect(other.statusCode).toBe(404);
    expect(other.json()).toEqual({ detail: 'Ticket not found.', code: 'not_found' });
    expect((await checkIn(codes[0]!, await createUser(ctx.app))).statusCode).toBe(403);
    expect((await ctx.app.inject({ method: 'POST', url: '/tickets/check-in/', payload: { code: codes[0] } })).statusCode).toBe(401);
    // Nothing above marked it used.
    const staff = await createStaff(ctx.app);
    expect((await checkIn(codes[0]!, staff)).statusCode).toBe(200);
  });

  it('at the door of one event, refuses a ticket of another of the organizer’s events with 409 wrong_event naming it', async () => {
    const { event, codes } = await ticketHolder(1);
    const elsewhere = await createEvent(ctx.app, ctx.organizer, { title: 'Other Night' });
    const res = await checkIn(codes[0]!, ctx.organizer, { door: elsewhere.id });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({
      detail: 'This ticket is for another event: Door Test.',
      code: 'wrong_event',
      event: { id: event.id, title: 'Door Test', date_time: event.dateTime.toISOString() },
    });
    // Not admitted by that refusal; at its own event's door it is.
    expect((await checkIn(codes[0]!, ctx.organizer, { door: event.id })).statusCode).toBe(200);
  });

  it('a retried scan (same Idempotency-Key) answers the admission again; a new scan of the used ticket says who admitted it', async () => {
    const { codes } = await ticketHolder(1);
    const staff = await createStaff(ctx.app);
    const scan = (user: TestUser, key: string) => checkIn(codes[0]!, user, { key });
    const first = await scan(ctx.organizer, 'scan-1');
    expect(first.statusCode).toBe(200);
    const retry = await scan(ctx.organizer, 'scan-1');
    expect(retry.statusCode).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toEqual(first.json());
    const otherDoor = await scan(staff, 'scan-2');
    expect(otherDoor.statusCode).toBe(409);
    expect(otherDoor.json()).toMatchObject({ code: 'already_checked_in', used_by: { id: ctx.organizer.id } });
  });

  it('accepts a code typed in lower case', async () => {
    const { codes } = await ticketHolder(1);
    expect((await checkIn(codes[0]!.toLowerCase(), ctx.organizer)).statusCode).toBe(200);
  });
});

describe('GET /tickets/<code>/', () => {
  it('shows the ticket to its holder, the organizer and staff; 404 to anyone else', async () => {
    const { holder, codes } = await ticketHolder(1);
    for (const reader of [holder, ctx.organizer, await createStaff(ctx.app)]) {
      const res = await getTicket(codes[0]!, reader);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ code: codes[0], status: 'valid', holder: { id: holder.id } });
    }
    for (const reader of [await createUser(ctx.app), await createOrganizer(ctx.app)]) {
      expect((await getTicket(codes[0]!, reader)).statusCode).toBe(404);
    }
    expect((await getTicket('EVT-NOPE', holder)).statusCode).toBe(404);
  });
});
