import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { openPostgres } from '../src/db/client.js';
import { jobs, notifications } from '../src/db/schema.js';
import { MAX_JOB_ATTEMPTS } from '../src/modules/jobs/jobs.service.js';
import { JobPoller, runDueJobs } from '../src/scheduled-jobs.js';
import { scheduleDueNotifications } from '../src/modules/notifications/reminders.service.js';
import { onPostgres } from './helpers/database.js';
import {
  appWithOrganizer,
  createEvent,
  createUser,
  insertRegistrationRow,
  notificationsOf,
  setEventTime,
  type EventRow,
  type TestUser,
} from './helpers/factories.js';

const ctx = appWithOrganizer();

const HOUR = 3_600_000;
const LEAD = 24 * HOUR; // REMINDER_LEAD's default
const run = () => runDueJobs(ctx.app.db, ctx.clock.now(), ctx.config);
const at = (date: Date, offsetMs = 0) => ctx.clock.set(new Date(date.getTime() + offsetMs));

/** An event starting `hoursAhead` from the clock, with two registered, one waitlisted and one cancelled user. */
async function eventWithRegistrants(hoursAhead: number, overrides: Partial<EventRow> = {}) {
  const event = await createEvent(ctx.app, ctx.organizer, {
    dateTime: new Date(ctx.clock.now().getTime() + hoursAhead * HOUR),
    ...overrides,
  });
  const registered = [await createUser(ctx.app), await createUser(ctx.app)];
  const waitlisted = await createUser(ctx.app);
  const cancelled = await createUser(ctx.app);
  for (const user of registered) await insertRegistrationRow(ctx.app, user.id, event.id, 'registered', 2);
  await insertRegistrationRow(ctx.app, waitlisted.id, event.id, 'waitlisted');
  await insertRegistrationRow(ctx.app, cancelled.id, event.id, 'cancelled');
  return { event, registered, others: [waitlisted, cancelled] };
}

async function kindsOf(user: TestUser, eventId: string) {
  return (await notificationsOf(ctx.app.db, user.id)).filter((n) => n.eventId === eventId).map((n) => n.kind);
}

async function jobOf(key: string) {
  const [row] = await ctx.app.db.select().from(jobs).where(eq(jobs.key, key));
  return row;
}

describe('event reminders', () => {
  it('reach every registered user once, REMINDER_LEAD before the start, and nobody else', async () => {
    const { event, registered, others } = await eventWithRegistrants(48, { title: 'Lagos Tech Bootcamp' });
    await run();
    at(event.dateTime, -LEAD - 60_000);
    await run();
    for (const user of registered) expect(await kindsOf(user, event.id)).toEqual([]);

    at(event.dateTime, -LEAD);
    const result = await run();
    expect(result.done).toBeGreaterThanOrEqual(1);
    for (const user of registered) {
      const list = await notificationsOf(ctx.app.db, user.id);
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({
        kind: 'event_reminder',
        eventId: event.id,
        message: `Reminder: "Lagos Tech Bootcamp" starts on ${event.dateTime.toISOString().slice(0, 16).replace('T', ' ')} UTC at Lagos, Nigeria.`,
      });
    }
    for (const user of others) expect(await kindsOf(user, event.id)).toEqual([]);
    expect(await jobOf(`event_reminder:${event.id}`)).toMatchObject({ status: 'done' });

    ctx.clock.advance(HOUR);
    await run();
    await run();
    for (const user of registered) expect(await kindsOf(user, event.id)).toEqual(['event_reminder']);
  });

  it('follow an event moved later: nothing at the old time, one reminder at the new one', async () => {
    const { event, registered } = await eventWithRegistrants(48);
    const later = new Date(event.dateTime.getTime() + 24 * HOUR);
    await setEventTime(ctx.app.db, event.id, later);
    at(event.dateTime, -LEAD);
    await run();
    for (const user of registered) expect(await kindsOf(user, event.id)).toEqual([]);
    at(later, -LEAD);
    await run();
    for (const user of registered) expect(await kindsOf(user, event.id)).toEqual(['event_reminder']);
  });

  it('follow an event moved later after its job was scheduled: the job is withdrawn, not run early', async () => {
    const { event, registered } = await eventWithRegistrants(30);
    at(event.dateTime, -LEAD);
    expect(await scheduleDueNotifications(ctx.app.db, ctx.clock.now(), ctx.config)).toBeGreaterThanOrEqual(1);
    const later = new Date(event.dateTime.getTime() + 12 * HOUR);
    await setEventTime(ctx.app.db, event.id, later);
    const result = await run();
    expect(result.discard).toBeGreaterThanOrEqual(1);
    for (const user of registered) expect(await kindsOf(user, event.id)).toEqual([]);
    at(later, -LEAD - 1_000);
    await run();
    for (const user of registered) expect(await kindsOf(user, event.id)).toEqual([]);
    at(later, -LEAD);
    await run();
    for (const user of registered) expect(await kindsOf(user, event.id)).toEqual(['event_reminder']);
  });

  it('follow an event moved earlier into the window: the reminder goes out at once', async () => {
    const { event, registered } = await eventWithRegistrants(96);
    await run();
    await setEventTime(ctx.app.db, event.id, new Date(ctx.clock.now().getTime() + 6 * HOUR));
    await run();
    for (const user of registered) expect(await kindsOf(user, event.id)).toEqual(['event_reminder']);
  });

  it('missed while no process ran: sent on the next run if the event has not started', async () => {
    const { event, registered } = await eventWithRegistrants(48);
    at(event.dateTime, -2 * HOUR);
    await run();
    for (const user of registered) expect(await kindsOf(user, event.id)).toEqual(['event_reminder']);
  });

  it('never sent once the event has started; a job found after the start is dropped', async () => {
    const { event: late, registered: lateUsers } = await eventWithRegistrants(49);
    at(late.dateTime, -LEAD);
    // Schedule the event's job without running it, as if the process died right after the scan.
    await scheduleDueNotifications(ctx.app.db, ctx.clock.now(), ctx.config);
    // Another event, created while no scheduler ran, starts before any process is back.
    const { event: missed, registered: missedUsers } = await eventWithRegistrants(LEAD / HOUR - 1);
    at(late.dateTime, 5 * 60_000);
    await run();
    for (const user of [...missedUsers, ...lateUsers]) {
      expect((await notificationsOf(ctx.app.db, user.id)).filter((n) => n.kind === 'event_reminder')).toEqual([]);
    }
    expect(await jobOf(`event_reminder:${late.id}`)).toMatchObject({ status: 'dropped' });
    expect(await jobOf(`event_reminder:${missed.id}`)).toBeUndefined();
  });

  it('are not sent for inactive (cancelled) events', async () => {
    const { event, registered } = await eventWithRegistrants(10, { isActive: false, cancelledAt: new Date('2029-01-01T00:00:00Z') });
    await run();
    at(event.dateTime, -HOUR);
    await run();
    for (const user of registered) expect(await kindsOf(user, event.id)).toEqual([]);
  });
});

describe('feedback requests', () => {
  it('go to registered attendees one hour after the start when the event has no end_time', async () => {
    const { event, registered, others } = await eventWithRegistrants(2, { title: 'Meetup' });
    await run();
    at(event.dateTime, HOUR - 1_000);
    await run();
    for (const user of registered) expect(await kindsOf(user, event.id)).toEqual(['event_reminder']);
    at(event.dateTime, HOUR);
    await run();
    await run();
    for (const user of registered) {
      expect(await kindsOf(user, event.id)).toEqual(['event_reminder', 'feedback_request']);
      const request = (await notificationsOf(ctx.app.db, user.id)).find((n) => n.kind === 'feedback_request');
      expect(request!.message).toBe('How was "Meetup"? Rate the event and leave your feedback.');
    }
    for (const user of others) expect(await kindsOf(user, event.id)).toEqual([]);
  });

  it('wait for end_time when there is one, and follow it when it moves', async () => {
    const { event, registered } = await eventWithRegistrants(1);
    await setEventTime(ctx.app.db, event.id, event.dateTime, new Date(event.dateTime.getTime() + 5 * HOUR));
    await run();
    at(event.dateTime, 5 * HOUR);
    const end = new Date(event.dateTime.getTime() + 8 * HOUR);
    await setEventTime(ctx.app.db, event.id, event.dateTime, end);
    await run();
    at(end, -1_000);
    await run();
    for (const user of registered) expect(await kindsOf(user, event.id)).toEqual(['event_reminder']);
    at(end);
    await run();
    for (const user of registered) expect(await kindsOf(user, event.id)).toEqual(['event_reminder', 'feedback_request']);
  });
});

describe('exactly once with concurrent schedulers', () => {
  async function manyDueEvents() {
    const list = [];
    for (let i = 0; i < 6; i++) list.push(await eventWithRegistrants(30 + i));
    at(list[list.length - 1]!.event.dateTime, -LEAD + 60_000);
    return list;
  }

  async function expectOneReminderEach(list: Awaited<ReturnType<typeof manyDueEvents>>) {
    for (const { event, registered } of list) {
      for (const user of registered) expect(await kindsOf(user, event.id)).toEqual(['event_reminder']);
      expect(await jobOf(`event_reminder:${event.id}`)).toMatchObject({ status: 'done' });
    }
  }

  it('in one process: overlapping runs send each reminder once', async () => {
    const list = await manyDueEvents();
    const now = ctx.clock.now();
    await Promise.all(Array.from({ length: 4 }, () => runDueJobs(ctx.app.db, now, ctx.config)));
    await expectOneReminderEach(list);
  });

  it.runIf(onPostgres)('with two processes on one PostgreSQL (separate pools) sends each reminder once', async () => {
    const list = await manyDueEvents();
    const processA = openPostgres(ctx.database.url!, 4);
    const processB = openPostgres(ctx.database.url!, 4);
    try {
      const now = ctx.clock.now();
      const runs = [processA, processB, processA, processB].map((database) => runDueJobs(database.db, now, ctx.config));
      const results = await Promise.all(runs);
      expect(results.reduce((sum, r) => sum + r.done, 0)).toBe(list.length);
      await expectOneReminderEach(list);
      const reminders = await ctx.app.db.select().from(notifications).where(eq(notifications.kind, 'event_reminder'));
      const pairs = reminders.map((n) => `${n.userId}:${n.eventId}`);
      expect(new Set(pairs).size).toBe(pairs.length);
    } finally {
      await processA.close();
      await processB.close();
    }
  });
});

describe('the job runner', () => {
  it('retries a failing job with backoff and marks it failed after the last attempt', async () => {
    const now = ctx.clock.now();
    await ctx.app.db.insert(jobs).values({ key: `mystery:${now.getTime()}`, kind: 'mystery', runAt: now });
    const first = await run();
    expect(first.failed).toBe(1);
    let job = await jobOf(`mystery:${now.getTime()}`);
    expect(job).toMatchObject({ status: 'pending', attempts: 1, lastError: 'No handler for job kind "mystery".' });
    expect(job!.runAt.getTime()).toBe(now.getTime() + 60_000);
    expect((await run()).failed).toBe(0);
    for (let attempt = 2; attempt <= MAX_JOB_ATTEMPTS; attempt++) {
      ctx.clock.set(job!.runAt);
      await run();
      job = await jobOf(`mystery:${now.getTime()}`);
      expect(job!.attempts).toBe(attempt);
    }
    expect(job!.status).toBe('failed');
  });

  it('the poller runs at start, catching up with reminders missed while the server was down', async () => {
    const { event, registered } = await eventWithRegistrants(30);
    at(event.dateTime, -HOUR);
    const poller = new JobPoller({ db: ctx.app.db, clock: ctx.clock, settings: ctx.config, intervalSeconds: 3_600, log: ctx.app.log });
    poller.start();
    try {
      await expect.poll(() => kindsOf(registered[0]!, event.id), { timeout: 5_000 }).toEqual(['event_reminder']);
    } finally {
      await poller.stop();
    }
    expect(await kindsOf(registered[1]!, event.id)).toEqual(['event_reminder']);
  });
});
