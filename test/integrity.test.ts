import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events, tickets } from '../src/db/schema.js';
import { checkIntegrity } from '../src/lib/integrity.js';
import { buildTestApp, type TestContext } from './helpers/app.js';
import { createTestDatabase, onPostgres } from './helpers/database.js';
import { createEvent, createOrganizer, createUser, insertFeedback, insertRegistration, type TestUser } from './helpers/factories.js';

let ctx: TestContext;
let organizer: TestUser;
let attendees: TestUser[];
beforeAll(async () => {
  ctx = await buildTestApp();
  organizer = await createOrganizer(ctx.app);
  attendees = await Promise.all([1, 2, 3, 4].map(() => createUser(ctx.app)));
});
afterAll(async () => ctx.close());

/** An event with one order in every state the services produce, consistent throughout. */
async function healthyEvent() {
  const db = ctx.app.db;
  const event = await createEvent(ctx.app, organizer, { capacity: 3 });
  const [a, b, c, d] = attendees as [TestUser, TestUser, TestUser, TestUser];
  const registered = await insertRegistration(db, { userId: a.id, eventId: event.id, quantity: 2, status: 'registered' });
  const waitlisted = await insertRegistration(db, { userId: b.id, eventId: event.id, quantity: 2, status: 'waitlisted' });
  const cancelledWithTickets = await insertRegistration(db, {
    userId: c.id,
    eventId: event.id,
    quantity: 2,
    status: 'cancelled',
    keepTickets: true,
  });
  await insertRegistration(db, { userId: d.id, eventId: event.id, quantity: 1, status: 'cancelled' });
  await insertFeedback(db, { userId: a.id, eventId: event.id, rating: 4 });
  await insertFeedback(db, { userId: c.id, eventId: event.id, rating: 2 });
  return { event, registered, waitlisted, cancelledWithTickets };
}

const ticketsOf = (registrationId: string) =>
  ctx.app.db.select().from(tickets).where(eq(tickets.registrationId, registrationId)).orderBy(tickets.seat);
const exec = (statement: string) => ctx.app.db.execute(sql.raw(statement));

async function expectReported(check: string, id: string) {
  const { problems } = await checkIntegrity(ctx.app.db);
  const found = problems.filter((p) => p.check === check && p.detail.includes(id));
  expect(found, `${check} problem about ${id} in ${JSON.stringify(problems, null, 1)}`).not.toHaveLength(0);
}

describe('checkIntegrity', () => {
  it('finds nothing wrong in a consistent database with registered, waitlisted and cancelled orders', async () => {
    await healthyEvent();
    await healthyEvent();
    const report = await checkIntegrity(ctx.app.db);
    expect(report.problems).toEqual([]);
    expect(report.counts).toMatchObject({ events: 2, registrations: 8, tickets: 8, feedbacks: 4 });
  });

  it('reports a registered_count that drifted from the registered orders', async () => {
    const { event } = await healthyEvent();
    await ctx.app.db.update(events).set({ registeredCount: 1 }).where(eq(events.id, event.id));
    await expectReported('registered_count', event.id);
  });

  it('reports a waitlist_count that drifted', async () => {
    const { event } = await healthyEvent();
    await ctx.app.db.update(events).set({ waitlistCount: 0 }).where(eq(events.id, event.id));
    await expectReported('waitlist_count', event.id);
  });

  it('reports a half-written registration: registered without its tickets (as a crash mid-order would leave it)', async () => {
    const { registered } = await healthyEvent();
    await exec(`DELETE FROM tickets WHERE registration_id = '${registered.id}'`);
    await expectReported('registered_tickets', registered.id);
  });

  it('reports a missing seat number and a seat beyond the quantity', async () => {
    const { registered } = await healthyEvent();
    const [, second] = await ticketsOf(registered.id);
    await ctx.app.db.update(tickets).set({ seat: 3 }).where(eq(tickets.id, second!.id));
    await expectReported('registered_tickets', registered.id);
  });

  it('reports tickets held by a waitlisted order and a partial set kept by a cancelled one', async () => {
    const { waitlisted, cancelledWithTickets, event } = await healthyEvent();
    await ctx.app.db
      .insert(tickets)
      .values({ registrationId: waitlisted.id, eventId: event.id, seat: 1, code: `EVT-WAIT-${waitlisted.id}` });
    const [first] = await ticketsOf(cancelledWithTickets.id);
    await ctx.app.db.delete(tickets).where(eq(tickets.id, first!.id));
    await expectReported('waitlisted_tickets', waitlisted.id);
    await expectReported('cancelled_tickets', cancelledWithTickets.id);
  });

  it('reports a ticket filed under another event than its registration', async () => {
    const { registered } = await healthyEvent();
    const other = await createEvent(ctx.app, organizer);
    const [ticket] = await ticketsOf(registered.id);
    await ctx.app.db.update(tickets).set({ eventId: other.id }).where(eq(tickets.id, ticket!.id));
    await expectReported('ticket_event', ticket!.id);
  });

  it('reports drifted rating_sum and rating_count', async () => {
    const { event } = await healthyEvent();
    await ctx.app.db.update(events).set({ ratingSum: 99 }).where(eq(events.id, event.id));
    await expectReported('ratings', event.id);
  });

  // The database forbids these three outright; drop the guard in this file's own database to prove the check
  // would still see them (e.g. on a database restored from a dump taken without constraints).
  it('reports overbooking, duplicate ticket codes and two live orders of one user when the constraints are gone', async () => {
    const { event, registered, waitlisted } = await healthyEvent();
    await exec('ALTER TABLE events DROP CONSTRAINT events_registered_within_capacity');
    await exec('ALTER TABLE events DROP CONSTRAINT events_threshold_range');
    await exec('DROP INDEX tickets_code_key');
    await exec('DROP INDEX registrations_live_user_event_key');
    await ctx.app.db.update(events).set({ capacity: 1 }).where(eq(events.id, event.id));
    const [first, second] = await ticketsOf(registered.id);
    await ctx.app.db.update(tickets).set({ code: first!.code }).where(eq(tickets.id, second!.id));
    await insertRegistration(ctx.app.db, { userId: waitlisted.userId, eventId: event.id, quantity: 1, status: 'waitlisted' });
    await expectReported('capacity', event.id);
    await expectReported('ticket_codes', first!.code);
    await expectReported('live_registrations', event.id);
  });
});

describe.skipIf(!onPostgres)('npm run check-integrity', () => {
  const run = (databaseUrl: string) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/check-integrity.ts'], {
      env: { ...process.env, DATABASE_URL: databaseUrl },
    }).then(
      (out) => ({ code: 0, ...out }),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );

  it('exits 0 on a consistent database and 1 with a readable list on a broken one', async () => {
    const fresh = await createTestDatabase();
    try {
      const ok = await run(fresh.url!);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/Integrity OK/);
    } finally {
      await fresh.close();
    }
    const broken = await run(ctx.database.url!);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/Integrity BROKEN/);
    expect(broken.stderr).toMatch(/\[registered_count\] event [0-9a-f-]{36}: registered_count is 1 but registered orders hold 2 seats/);
  });
});
