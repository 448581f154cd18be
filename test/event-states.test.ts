import { afterAll, describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.js';
import { DEFAULT_PASSWORD, createEvent, createOrganizer, createStaff, createUser, readEvent } from './helpers/factories.js';

// An event is published, unpublished (is_active=false: hidden, registration closed, registrations kept) or
// cancelled (DELETE: final). The reference's clients set is_active with PATCH/PUT and read it everywhere.
const ctx = await buildTestApp();
afterAll(async () => ctx.close());
const owner = await createOrganizer(ctx.app);
const staff = await createStaff(ctx.app);
const attendee = await createUser(ctx.app);
const stranger = await createUser(ctx.app);

const send = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object, headers = {}) =>
  ctx.app.inject({ method, url, headers, payload });
const register = (eventId: string, who: { auth: { authorization: string } }, quantity = 1) =>
  send('POST', '/registrations/', { event: eventId, quantity }, who.auth);
const listedIds = async (who?: { auth: { authorization: string } }) =>
  ((await send('GET', '/events/?page_size=100', undefined, who?.auth)).json().results as { id: string }[]).map((e) => e.id);

describe('unpublishing with is_active', () => {
  it('PATCH is_active=false hides the event from everyone but its organizer and staff, and keeps its registrations', async () => {
    const event = await createEvent(ctx.app, owner, { capacity: 1 });
    expect((await register(event.id, attendee)).statusCode).toBe(201);
    expect((await register(event.id, stranger)).json().status).toBe('waitlisted');

    const res = await send('PATCH', `/events/${event.id}/edit/`, { is_active: false }, owner.auth);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ is_active: false, status: 'unpublished', registered_count: 1, waitlist_count: 1 });

    expect((await send('GET', `/events/${event.id}/`)).statusCode).toBe(404);
    expect((await send('GET', `/events/${event.id}/`, undefined, stranger.auth)).statusCode).toBe(404);
    expect(await listedIds()).not.toContain(event.id);
    expect(await listedIds(stranger)).not.toContain(event.id);
    expect((await send('GET', `/events/${event.id}/`, undefined, owner.auth)).json().status).toBe('unpublished');
    expect((await send('GET', `/events/${event.id}/`, undefined, staff.auth)).json().is_active).toBe(false);
    // The attendee keeps their registration and tickets.
    const mine = (await send('GET', '/registrations/mine/', undefined, attendee.auth)).json().results as {
      event: string;
      status: string;
    }[];
    expect(mine.find((r) => r.event === event.id)).toMatchObject({ status: 'registered' });
  });

  it('refuses registrations for an unpublished event with a clear 400, and takes them again once republished', async () => {
    const event = await createEvent(ctx.app, owner);
    await send('PATCH', `/events/${event.id}/edit/`, { is_active: false }, owner.auth);
    const refused = await register(event.id, attendee);
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toEqual({ detail: 'This event is not published; registration is closed.', code: 'event_inactive' });

    const republished = await send('PATCH', `/events/${event.id}/edit/`, { is_active: true }, owner.auth);
    expect(republished.json()).toMatchObject({ is_active: true, status: 'published' });
    expect(await listedIds()).toContain(event.id);
    expect((await register(event.id, attendee)).statusCode).toBe(201);
  });

  it('PUT takes is_active too; only the organizer or staff may change it', async () => {
    const event = await createEvent(ctx.app, owner);
    const body = {
      title: event.title,
      location: event.location,
      date_time: event.dateTime.toISOString(),
      capacity: event.capacity,
      is_active: false,
    };
    expect((await send('PUT', `/events/${event.id}/edit/`, body, stranger.auth)).statusCode).toBe(403);
    const res = await send('PUT', `/events/${event.id}/edit/`, body, staff.auth);
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('unpublished');
  });

  it('an event created with is_active=false starts unpublished (a draft)', async () => {
    const res = await send(
      'POST',
      '/events/create/',
      { title: 'Draft', location: 'Lagos', date_time: '2030-06-01T10:00:00Z', capacity: 10, is_active: false },
      owner.auth,
    );
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ is_active: false, status: 'unpublished' });
    expect((await send('GET', `/events/${res.json().id}/`)).statusCode).toBe(404);
  });

  it('still moves the waiting list when a seat of an unpublished event is freed', async () => {
    const event = await createEvent(ctx.app, owner, { capacity: 1 });
    const first = await register(event.id, attendee);
    await register(event.id, stranger);
    await send('PATCH', `/events/${event.id}/edit/`, { is_active: false }, owner.auth);
    expect((await send('POST', `/registrations/${first.json().id}/cancel/`, {}, attendee.auth)).statusCode).toBe(200);
    expect(await readEvent(ctx.app, event.id)).toMatchObject({ registeredCount: 1, waitlistCount: 0 });
  });
});

describe('cancelling (DELETE) stays distinct from unpublishing', () => {
  it('a cancelled event reports status cancelled and cannot be published again (409)', async () => {
    const event = await createEvent(ctx.app, owner);
    await register(event.id, attendee);
    expect((await send('DELETE', `/events/${event.id}/edit/`, undefined, owner.auth)).statusCode).toBe(204);
    const seen = await send('GET', `/events/${event.id}/`, undefined, owner.auth);
    expect(seen.json()).toMatchObject({ is_active: false, status: 'cancelled', registered_count: 0 });

    const revive = await send('PATCH', `/events/${event.id}/edit/`, { is_active: true }, owner.auth);
    expect(revive.statusCode).toBe(409);
    expect(revive.json()).toEqual({ detail: 'A cancelled event cannot be published again.', code: 'event_cancelled' });
    const refused = await register(event.id, stranger);
    expect(refused.json()).toEqual({ detail: 'This event has been cancelled; registration is closed.', code: 'event_inactive' });
  });

  it('an unpublished event can be cancelled: its registrations are cancelled then', async () => {
    const event = await createEvent(ctx.app, owner);
    await register(event.id, attendee, 2);
    await send('PATCH', `/events/${event.id}/edit/`, { is_active: false }, owner.auth);
    expect((await send('DELETE', `/events/${event.id}/edit/`, undefined, owner.auth)).statusCode).toBe(204);
    expect(await readEvent(ctx.app, event.id)).toMatchObject({ registeredCount: 0, isActive: false, cancelledAt: expect.any(Date) });
  });
});

describe('PUT /auth/me/ as the reference defines it (email read-only unless confirmed)', () => {
  it('accepts a PUT without email', async () => {
    const someone = await createUser(ctx.app);
    const res = await send('PUT', '/auth/me/', { username: `${someone.username}_new` }, someone.auth);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ username: `${someone.username}_new`, email: someone.email });
  });

  it('changes the email only with the current password; sending the current email back needs none', async () => {
    const someone = await createUser(ctx.app);
    const same = await send('PUT', '/auth/me/', { username: someone.username, email: someone.email.toUpperCase() }, someone.auth);
    expect(same.statusCode).toBe(200);
    const without = await send('PATCH', '/auth/me/', { email: `moved-${someone.email}` }, someone.auth);
    expect(without.statusCode).toBe(400);
    expect(Object.keys(without.json())).toEqual(['current_password']);
    const wrong = await send('PATCH', '/auth/me/', { email: `moved-${someone.email}`, current_password: 'not-it' }, someone.auth);
    expect(wrong.statusCode).toBe(400);
    const right = await send('PATCH', '/auth/me/', { email: `moved-${someone.email}`, current_password: DEFAULT_PASSWORD }, someone.auth);
    expect(right.statusCode).toBe(200);
    expect(right.json().email).toBe(`moved-${someone.email}`);
  });
});
