import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events, notifications, registrations, tickets } from '../src/db/schema.js';
import { ApiError } from '../src/lib/errors.js';
import { StaleHolders, registerOrders, type Order } from '../src/modules/registrations/registrations.service.js';
import { buildTestApp, type TestContext } from './helpers/app.js';
import { authHeader, createEvent, createOrganizer, createUser, insertRegistration, type TestUser } from './helpers/factories.js';

// registerOrders is the seat rule for a group-committed batch: these call it directly with batches a rush would
// form, and check it decides exactly as one transaction per order, in arrival order, would.
let ctx: TestContext;
let organizer: TestUser;
let people: TestUser[];
beforeAll(async () => {
  ctx = await buildTestApp();
  organizer = await createOrganizer(ctx.app);
  people = await Promise.all(Array.from({ length: 6 }, () => createUser(ctx.app)));
});
afterAll(async () => ctx.close());

const base = new Date('2030-06-01T10:00:00Z');
/** The events start after every order of these batches arrives. */
const afterTheOrders = new Date('2031-01-01T18:00:00Z');
const order = (user: TestUser, quantity: number, second: number): Order => ({
  user,
  quantity,
  now: new Date(base.getTime() + second * 1000),
});
const runBatch = (eventId: string, orders: Order[]) => ctx.app.db.transaction((tx) => registerOrders(tx, eventId, orders));
const errorCode = (outcome: { ok: boolean; error?: unknown }) => (outcome.ok ? null : (outcome.error as ApiError).code);

describe('registerOrders (one batch, one transaction)', () => {
  it('takes seats in arrival order, waitlists whole orders that do not fit, refuses a second live order per user', async () => {
    const event = await createEvent(ctx.app, organizer, { capacity: 4, dateTime: afterTheOrders });
    const [a, b, c, d] = people as [TestUser, TestUser, TestUser, TestUser];
    const outcomes = await runBatch(event.id, [order(a, 2, 1), order(b, 3, 2), order(c, 2, 3), order(a, 1, 4), order(d, 1, 5)]);

    expect(outcomes.map(errorCode)).toEqual([null, null, null, 'already_registered', null]);
    const values = outcomes.map((o) => (o.ok ? o.value : null));
    expect(values.map((v) => v?.status)).toEqual(['registered', 'waitlisted', 'registered', undefined, 'waitlisted']);
    expect(values.map((v) => v?.waitlistPosition)).toEqual([null, 1, null, undefined, 2]);
    expect(values.map((v) => v?.tickets.map((t) => t.seat))).toEqual([[1, 2], [], [1, 2], undefined, []]);
    expect(values[0]!.createdAt).toEqual(order(a, 2, 1).now);

    const [row] = await ctx.app.db.select().from(events).where(eq(events.id, event.id));
    expect(row).toMatchObject({ registeredCount: 4, waitlistCount: 2 });
    const stored = await ctx.app.db.select().from(registrations).where(eq(registrations.eventId, event.id));
    expect(stored).toHaveLength(4);
    const issued = await ctx.app.db.select().from(tickets).where(eq(tickets.eventId, event.id));
    expect(new Set(issued.map((t) => t.code)).size).toBe(4);
    const told = await ctx.app.db.select().from(notifications).where(eq(notifications.eventId, event.id));
    expect(told.map((n) => `${n.userId}:${n.kind}`).sort()).toEqual(
      [`${a.id}:registered`, `${b.id}:waitlisted`, `${c.id}:registered`, `${d.id}:waitlisted`].sort(),
    );
  });

  it('counts orders already waiting before the batch in the positions, and refuses users who already hold one', async () => {
    const event = await createEvent(ctx.app, organizer, { capacity: 1, dateTime: afterTheOrders });
    const [a, b, c, d] = people as [TestUser, TestUser, TestUser, TestUser];
    await insertRegistration(ctx.app.db, { userId: a.id, eventId: event.id, quantity: 1, status: 'registered' });
    await insertRegistration(ctx.app.db, { userId: b.id, eventId: event.id, quantity: 1, status: 'waitlisted' });
    const outcomes = await runBatch(event.id, [order(c, 1, 1), order(b, 1, 2), order(d, 1, 3), order(a, 1, 4)]);
    expect(outcomes.map(errorCode)).toEqual([null, 'already_registered', null, 'already_registered']);
    expect(outcomes[1]!.ok ? null : (outcomes[1]!.error as ApiError).detail).toMatch(/waiting list/);
    expect(outcomes.map((o) => (o.ok ? o.value.waitlistPosition : null))).toEqual([2, null, 3, null]);
  });

  it('places new orders among orders another process queued meanwhile, by arrival, as GET /registrations/<id>/ does', async () => {
    // Another process's batch took the lock first, with orders that arrived between this batch's ones.
    const event = await createEvent(ctx.app, organizer, { capacity: 1, dateTime: afterTheOrders });
    const [a, b, c, d, e, f] = people as [TestUser, TestUser, TestUser, TestUser, TestUser, TestUser];
    const first = await runBatch(event.id, [order(a, 1, 1), order(b, 1, 10), order(c, 1, 30)]);
    expect(first.map((o) => (o.ok ? o.value.waitlistPosition : 'refused'))).toEqual([null, 1, 2]);
    const second = await runBatch(event.id, [order(d, 1, 5), order(e, 1, 20), order(f, 1, 40)]);
    expect(second.map((o) => (o.ok ? o.value.waitlistPosition : 'refused'))).toEqual([1, 3, 5]);
    // The same places as the one definition (positionInQueue) gives on reading them back, for everyone queued.
    for (const outcome of [...first, ...second].slice(1)) {
      const registration = outcome.ok ? outcome.value : undefined;
      const res = await ctx.app.inject({ method: 'GET', url: `/registrations/${registration!.id}/`, headers: organizer.auth });
      const expected = { [b.id]: 2, [c.id]: 4, [d.id]: 1, [e.id]: 3, [f.id]: 5 }[registration!.userId];
      expect(res.json<{ waitlist_position: number }>().waitlist_position).toBe(expected);
    }
  });

  it('claimed after the lock without reading holders: a user who holds an order makes it throw StaleHolders and write nothing', async () => {
    const event = await createEvent(ctx.app, organizer, { capacity: 2, dateTime: afterTheOrders });
    const [a, b, c] = people as [TestUser, TestUser, TestUser];
    await insertRegistration(ctx.app.db, { userId: a.id, eventId: event.id, quantity: 1, status: 'registered' });
    let claimed = 0;
    const claim = () => {
      claimed++;
      return [order(a, 1, 1), order(b, 1, 2), order(c, 1, 3)];
    };
    await expect(ctx.app.db.transaction((tx) => registerOrders(tx, event.id, claim, { readHolders: false }))).rejects.toBeInstanceOf(
      StaleHolders,
    );
    expect(claimed).toBe(1);
    expect(await ctx.app.db.select().from(registrations).where(eq(registrations.eventId, event.id))).toHaveLength(1);
    expect(await ctx.app.db.select().from(notifications).where(eq(notifications.eventId, event.id))).toHaveLength(0);
    expect((await ctx.app.db.select().from(events).where(eq(events.id, event.id)))[0]).toMatchObject({
      registeredCount: 1,
      waitlistCount: 0,
    });
    // Run again reading the holders, as the batcher does: a is refused and b, not c, gets the last seat.
    const outcomes = await ctx.app.db.transaction((tx) => registerOrders(tx, event.id, claim, { readHolders: true }));
    expect(outcomes.map(errorCode)).toEqual(['already_registered', null, null]);
    expect(outcomes.map((o) => (o.ok ? o.value.status : null))).toEqual([null, 'registered', 'waitlisted']);
  });

  it('refuses only the orders that arrived after the start, and every order for a cancelled or unknown event', async () => {
    const event = await createEvent(ctx.app, organizer, { capacity: 5, dateTime: new Date(base.getTime() + 2_500) });
    const [a, b, c] = people as [TestUser, TestUser, TestUser];
    const outcomes = await runBatch(event.id, [order(a, 1, 1), order(b, 1, 2), order(c, 1, 3)]);
    expect(outcomes.map(errorCode)).toEqual([null, null, 'event_started']);

    await ctx.app.db.update(events).set({ isActive: false }).where(eq(events.id, event.id));
    const closed = await runBatch(event.id, [order(c, 1, 1), order(people[3]!, 1, 1)]);
    expect(closed.map(errorCode)).toEqual(['event_inactive', 'event_inactive']);

    const unknown = await runBatch('00000000-0000-4000-8000-000000000000', [order(c, 1, 1)]);
    expect(unknown[0]!.ok ? null : (unknown[0]!.error as { fields: unknown }).fields).toHaveProperty('event');
  });
});

describe('POST /registrations/ under a rush in one process', () => {
  it('group-commits concurrent orders and still sells exactly the capacity, with one answer per request', async () => {
    const event = await createEvent(ctx.app, organizer, { capacity: 7, dateTime: afterTheOrders });
    const crowd = await Promise.all(Array.from({ length: 30 }, () => createUser(ctx.app)));
    const quantities = crowd.map((_, i) => (i % 3) + 1);
    const responses = await Promise.all(
      crowd.map((user, i) =>
        ctx.app.inject({
          method: 'POST',
          url: '/registrations/',
          headers: authHeader(ctx.app, user.id),
          payload: { event: event.id, quantity: quantities[i] },
        }),
      ),
    );
    expect(responses.map((r) => r.statusCode).every((s) => s === 201)).toBe(true);
    const bodies = responses.map((r) => r.json<{ status: string; quantity: number; ticket_instances: unknown[]; user: string }>());
    expect(bodies.map((b) => b.user)).toEqual(crowd.map((u) => u.id));
    const seats = bodies.filter((b) => b.status === 'registered').reduce((sum, b) => sum + b.quantity, 0);
    const [row] = await ctx.app.db.select().from(events).where(eq(events.id, event.id));
    expect(row!.registeredCount).toBe(seats);
    expect(seats).toBeLessThanOrEqual(7);
    // Orders are served in turn: the seats only run out once an order no longer fits what is left.
    expect(seats).toBeGreaterThanOrEqual(7 - 2);
    expect(bodies.every((b) => b.ticket_instances.length === (b.status === 'registered' ? b.quantity : 0))).toBe(true);
    expect(row!.waitlistCount).toBe(bodies.filter((b) => b.status === 'waitlisted').length);
  });
});

describe('a second order from the same user racing in from another process', () => {
  it('is refused, and the seats it would have taken go to the next order, not left unsold', async () => {
    const event = await createEvent(ctx.app, organizer, { capacity: 3, dateTime: afterTheOrders });
    const [a, b] = people.slice(4) as [TestUser, TestUser];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // Another process's batch: holds the event lock with a's first order until released.
    const other = ctx.app.db.transaction(async (tx) => {
      const outcomes = await registerOrders(tx, event.id, [order(a, 1, 1)]);
      await held;
      return outcomes;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    // This batch reads the holders, then waits for the lock while a's first order commits.
    const mine = ctx.app.inject({
      method: 'POST',
      url: '/registrations/',
      headers: authHeader(ctx.app, a.id),
      payload: { event: event.id, quantity: 2 },
    });
    const next = ctx.app.inject({
      method: 'POST',
      url: '/registrations/',
      headers: authHeader(ctx.app, b.id),
      payload: { event: event.id, quantity: 2 },
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    expect((await other).map(errorCode)).toEqual([null]);
    const [second, third] = await Promise.all([mine, next]);
    expect(second.statusCode).toBe(400);
    expect(second.json()).toMatchObject({ code: 'already_registered' });
    expect(third.statusCode).toBe(201);
    expect(third.json()).toMatchObject({ status: 'registered', quantity: 2 });
    const [row] = await ctx.app.db.select().from(events).where(eq(events.id, event.id));
    expect(row).toMatchObject({ registeredCount: 3, waitlistCount: 0 });
  });
});
