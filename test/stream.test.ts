import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../src/db/client.js';
import { runDueJobs } from '../src/scheduled-jobs.js';
import { notify } from '../src/modules/notifications/notifications.service.js';
import { streamEventId } from '../src/modules/notifications/notifications.stream.js';
import { buildTestApp, type TestContext } from './helpers/app.js';
import { onPostgres } from './helpers/database.js';
import { listenOnce, openSse, type SseStream } from './helpers/sse.js';
import { authHeader, createEvent, createOrganizer, createUser, insertRegistrationRow, type TestUser } from './helpers/factories.js';

let ctx: TestContext;
let base: string;
const open: SseStream[] = [];
beforeAll(async () => {
  ctx = await buildTestApp({ env: { STREAM_HEARTBEAT_MS: '150' } });
  base = await listenOnce(ctx.app);
});
afterAll(async () => {
  for (const stream of open) stream.close();
  await ctx.close();
});

async function stream(user: TestUser | undefined, path = '/notifications/stream/', headers: Record<string, string> = {}, at = base) {
  const sse = await openSse(`${at}${path}`, { ...(user ? authHeader(ctx.app, user.id) : {}), ...headers });
  open.push(sse);
  if (sse.status === 200) await sse.waitForComment('connected');
  return sse;
}

const say = (user: TestUser, message: string, db = ctx.app.db) =>
  notify(db, { userId: user.id, eventId: null, kind: 'registered', message }, ctx.clock.now());

const messagesOf = (sse: SseStream) => sse.messages.map((m) => JSON.parse(m.data).message);

describe('GET /notifications/stream/', () => {
  it('delivers each new notification of the caller as an SSE message with a sortable id', async () => {
    const user = await createUser(ctx.app);
    const sse = await stream(user);
    expect(sse.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(sse.headers.get('cache-control')).toContain('no-cache');
    const [row] = await say(user, 'You have successfully registered for "Bootcamp".');
    const [message] = await sse.waitForMessages(1);
    expect(message).toEqual({
      id: streamEventId(row!),
      event: 'notification',
      data: JSON.stringify({
        id: row!.id,
        user: user.id,
        event: null,
        kind: 'registered',
        message: 'You have successfully registered for "Bootcamp".',
        is_read: false,
        created_at: row!.createdAt.toISOString(),
      }),
    });
    expect(message!.id).toMatch(/^\d{13}-[0-9a-f-]{36}$/);
    sse.close();
  });

  it("delivers only after the creating transaction commits, never after a rollback, never other users' notifications", async () => {
    const user = await createUser(ctx.app);
    const other = await createUser(ctx.app);
    const sse = await stream(user);
    await say(other, 'not for you');
    await expect(
      ctx.app.db.transaction(async (tx) => {
        await say(user, 'rolled back', tx);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    let committed = false;
    await ctx.app.db.transaction(async (tx) => {
      await say(user, 'committed', tx);
      await new Promise((resolve) => setTimeout(resolve, 200));
      committed = sse.messages.length === 0;
    });
    expect(committed).toBe(true);
    await sse.waitForMessages(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(messagesOf(sse)).toEqual(['committed']);
    sse.close();
  });

  it('sends heartbeat comments', async () => {
    const user = await createUser(ctx.app);
    const sse = await stream(user);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(sse.comments.filter((c) => c === 'heartbeat').length).toBeGreaterThanOrEqual(2);
    sse.close();
  });

  it('resumes after Last-Event-ID (header or ?last_event_id=): replays what came later, in order, then goes live', async () => {
    const user = await createUser(ctx.app);
    const rows = [];
    for (const message of ['one', 'two', 'three']) {
      ctx.clock.advance(1_000);
      rows.push(...(await say(user, message)));
    }
    const resumed = await stream(user, '/notifications/stream/', { 'last-event-id': streamEventId(rows[0]!) });
    await resumed.waitForMessages(2);
    expect(messagesOf(resumed)).toEqual(['two', 'three']);
    expect(resumed.messages.map((m) => m.id)).toEqual([streamEventId(rows[1]!), streamEventId(rows[2]!)]);
    ctx.clock.advance(1_000);
    await say(user, 'four');
    await resumed.waitForMessages(3);
    expect(messagesOf(resumed)).toEqual(['two', 'three', 'four']);

    const byQuery = await stream(user, `/notifications/stream/?last_event_id=${streamEventId(rows[1]!)}`);
    await byQuery.waitForMessages(2);
    expect(messagesOf(byQuery)).toEqual(['three', 'four']);

    const malformed = await stream(user, '/notifications/stream/', { 'last-event-id': 'garbage' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(malformed.messages).toEqual([]);
    for (const sse of [resumed, byQuery, malformed]) sse.close();
  });

  it('opens with a single-use, user-bound ticket that expires after 60 seconds', async () => {
    const user = await createUser(ctx.app);
    const ticketFor = async () =>
      (await ctx.app.inject({ method: 'POST', url: '/notifications/stream-ticket/', headers: authHeader(ctx.app, user.id) })).json()
        .ticket as string;
    const ticket = await ticketFor();
    const sse = await stream(undefined, `/notifications/stream/?ticket=${ticket}`);
    expect(sse.status).toBe(200);
    await say(user, 'by ticket');
    await sse.waitForMessages(1);
    expect(messagesOf(sse)).toEqual(['by ticket']);
    sse.close();

    const reused = await stream(undefined, `/notifications/stream/?ticket=${ticket}`);
    expect(reused.status).toBe(401);
    expect(reused.errorBody).toMatchObject({ code: 'invalid_stream_ticket' });

    const stale = await ticketFor();
    ctx.clock.advance(60_000);
    expect((await stream(undefined, `/notifications/stream/?ticket=${stale}`)).status).toBe(401);
    expect((await stream(undefined, '/notifications/stream/?ticket=made-up')).status).toBe(401);
    expect((await stream(undefined)).status).toBe(401);
  });

  it('a single-use ticket raced by two connections opens one stream', async () => {
    const user = await createUser(ctx.app);
    const { ticket } = (
      await ctx.app.inject({ method: 'POST', url: '/notifications/stream-ticket/', headers: authHeader(ctx.app, user.id) })
    ).json();
    const both = await Promise.all([1, 2].map(() => stream(undefined, `/notifications/stream/?ticket=${ticket}`)));
    expect(both.map((s) => s.status).sort()).toEqual([200, 401]);
    for (const sse of both) sse.close();
  });

  it('releases its subscription when the client goes away', async () => {
    const user = await createUser(ctx.app);
    // Streams of earlier tests were closed by their clients; the server notices within moments.
    await expect.poll(() => ctx.app.notificationHub.subscriberCount).toBe(0);
    const sse = await stream(user);
    expect(ctx.app.notificationHub.subscriberCount).toBe(1);
    sse.close();
    await expect.poll(() => ctx.app.notificationHub.subscriberCount).toBe(0);
  });

  it('ends open streams when the server closes, so shutdown does not hang', async () => {
    const second = await buildTestApp({ database: ctx.database, clock: ctx.clock });
    const url = await listenOnce(second.app);
    const user = await createUser(ctx.app);
    const sse = await stream(user, '/notifications/stream/', {}, url);
    const started = Date.now();
    await second.close();
    await sse.ended;
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('streams reminders sent by the scheduler', async () => {
    const organizer = await createOrganizer(ctx.app);
    const user = await createUser(ctx.app);
    const event = await createEvent(ctx.app, organizer, { dateTime: new Date(ctx.clock.now().getTime() + 3_600_000) });
    await insertRegistrationRow(ctx.app, user.id, event.id);
    const sse = await stream(user);
    await runDueJobs(ctx.app.db, ctx.clock.now(), ctx.config);
    const [message] = await sse.waitForMessages(1);
    expect(JSON.parse(message!.data)).toMatchObject({ kind: 'event_reminder', event: event.id });
    sse.close();
  });
});

describe('across processes', () => {
  it('a notification created through one app instance reaches a stream held by another', async () => {
    // On PostgreSQL each instance has its own pool and LISTEN connection, as two server processes would.
    const otherDatabase = onPostgres ? openPostgres(ctx.database.url!, 4) : ctx.database;
    const other = await buildTestApp({ database: otherDatabase, clock: ctx.clock });
    try {
      const user = await createUser(ctx.app);
      const held = await stream(user, '/notifications/stream/', {}, await listenOnce(other.app));
      await say(user, 'from process A');
      await ctx.app.db.transaction(async (tx) => {
        await say(user, 'from process A, in a transaction', tx);
      });
      await held.waitForMessages(2);
      expect(messagesOf(held)).toEqual(['from process A', 'from process A, in a transaction']);
      held.close();
    } finally {
      await other.close();
      if (otherDatabase !== ctx.database) await otherDatabase.close();
    }
  });

  it.runIf(onPostgres)('a stream survives the loss of its LISTEN connection and catches up on what it missed', async () => {
    const user = await createUser(ctx.app);
    const sse = await stream(user);
    await say(user, 'before');
    await sse.waitForMessages(1);
    const admin = new pg.Client({ connectionString: ctx.database.url });
    await admin.connect();
    try {
      const { rowCount } = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'`,
      );
      expect(rowCount).toBeGreaterThanOrEqual(1);
    } finally {
      await admin.end();
    }
    ctx.clock.advance(1_000);
    await say(user, 'during the outage');
    await sse.waitForMessages(2, 10_000);
    ctx.clock.advance(1_000);
    await say(user, 'after');
    await sse.waitForMessages(3, 10_000);
    expect(messagesOf(sse)).toEqual(['before', 'during the outage', 'after']);
    sse.close();
  });
});
