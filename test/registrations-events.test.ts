/** The events module's edits that move seats: a capacity increase promotes the waiting list, DELETE cancels all. */
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { notifications } from '../src/db/schema.js';
import {
  appWithOrganizer,
  authHeader,
  createEvent,
  readEvent,
  registerInTurn as registerInOrder,
  type TestUser,
} from './helpers/factories.js';

const ctx = appWithOrganizer();

const as = (user: TestUser) => authHeader(ctx.app, user.id);
const registration = async (id: string, user: TestUser) =>
  (await ctx.app.inject({ url: `/registrations/${id}/`, headers: as(user) })).json();
const kinds = async (userId: string) =>
  (await ctx.app.db.select().from(notifications).where(eq(notifications.userId, userId))).map((n) => n.kind).sort();

const registerInTurn = (eventId: string, quantities: number[]) => registerInOrder(ctx.app, ctx.clock, eventId, quantities);

describe('PATCH /events/<id>/edit/ with more capacity', () => {
  it('promotes the waiting list in the same transaction, FIFO, skipping orders that do not fit', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { capacity: 2 });
    const [, b, c, d] = await registerInTurn(event.id, [2, 3, 2, 1]);
    const res = await ctx.app.inject({
      method: 'PATCH',
      url: `/events/${event.id}/edit/`,
      headers: as(ctx.organizer),
      payload: { capacity: 6 },
    });
    expect(res.statusCode, res.body).toBe(200);
    // 4 new seats: b (3) fits, c (2) no longer does, d (1) takes the last one.
    expect(res.json()).toMatchObject({ capacity: 6, registered_count: 6, tickets_remaining: 0, waitlist_count: 1 });
    expect((await registration(b!.id, b!.user)).status).toBe('registered');
    expect(await registration(c!.id, c!.user)).toMatchObject({ status: 'waitlisted', waitlist_position: 1 });
    expect((await registration(d!.id, d!.user)).ticket_instances).toHaveLength(1);
    expect(await kinds(b!.user.id)).toEqual(['promoted', 'waitlisted']);
  });

  it('still refuses a capacity below the seats held, and leaves the waiting list alone when capacity shrinks', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { capacity: 4 });
    await registerInTurn(event.id, [2, 3]);
    const patch = (capacity: number) =>
      ctx.app.inject({ method: 'PATCH', url: `/events/${event.id}/edit/`, headers: as(ctx.organizer), payload: { capacity } });
    expect((await patch(1)).statusCode).toBe(400);
    const shrink = await patch(3);
    expect(shrink.statusCode).toBe(200);
    expect(shrink.json()).toMatchObject({ registered_count: 2, waitlist_count: 1 });
  });
});

describe('DELETE /events/<id>/edit/ (cancellation)', () => {
  it('cancels every live registration, frees the seats and notifies each registrant', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { capacity: 2 });
    const [a, b] = await registerInTurn(event.id, [2, 1]);
    const code = (await registration(a!.id, a!.user)).ticket_instances[0].code;
    const res = await ctx.app.inject({ method: 'DELETE', url: `/events/${event.id}/edit/`, headers: as(ctx.organizer) });
    expect(res.statusCode).toBe(204);
    expect(await readEvent(ctx.app, event.id)).toMatchObject({ isActive: false, registeredCount: 0, waitlistCount: 0 });
    for (const r of [a!, b!]) {
      expect((await registration(r.id, r.user)).status).toBe('cancelled');
      expect(await kinds(r.user.id)).toContain('event_cancelled');
    }
    const scan = await ctx.app.inject({ method: 'POST', url: '/tickets/check-in/', headers: as(ctx.organizer), payload: { code } });
    expect(scan.json().code).toBe('registration_cancelled');
    // Deleting again changes nothing and notifies nobody twice.
    expect((await ctx.app.inject({ method: 'DELETE', url: `/events/${event.id}/edit/`, headers: as(ctx.organizer) })).statusCode).toBe(204);
    expect((await kinds(a!.user.id)).filter((k) => k === 'event_cancelled')).toHaveLength(1);
  });
});

describe('PATCH /events/<id>/edit/ moving the date or place', () => {
  it('tells every live registrant, once per change, and nobody when only the title changes', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { capacity: 1 });
    const [seated, waiting] = await registerInTurn(event.id, [1, 1]);
    const patch = (payload: object) =>
      ctx.app.inject({ method: 'PATCH', url: `/events/${event.id}/edit/`, headers: as(ctx.organizer), payload });

    expect((await patch({ title: 'Renamed' })).statusCode).toBe(200);
    expect(await kinds(seated!.user.id)).toEqual(['registered']);

    const moved = new Date(event.dateTime.getTime() + 3 * 24 * 3600 * 1000).toISOString();
    expect((await patch({ date_time: moved, location: 'Another hall' })).statusCode).toBe(200);
    for (const person of [seated!, waiting!]) {
      const notes = await ctx.app.db.select().from(notifications).where(eq(notifications.userId, person.user.id));
      const updates = notes.filter((n) => n.kind === 'event_updated');
      expect(updates).toHaveLength(1);
      expect(updates[0]!.message).toContain('Another hall');
    }
  });
});
