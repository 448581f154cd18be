import { describe, expect, it } from 'vitest';
import { registrations, users } from '../src/db/schema.js';
import { parseVersionList } from '../src/db/row-version-cache.js';
import { pageVersionsForUser } from '../src/modules/notifications/notifications.repository.js';
import { notify, notifyEventCancelled, notifyEventChanged } from '../src/modules/notifications/notifications.service.js';
import {
  appWithOrganizer,
  authHeader,
  createEvent,
  createUser,
  insertRegistrationRow,
  notificationsOf,
  type TestUser,
} from './helpers/factories.js';

const ctx = appWithOrganizer();

const get = (url: string, user: TestUser) => ctx.app.inject({ url, headers: authHeader(ctx.app, user.id) });

/** Three notifications for `user`, one second apart (the last is the newest), and one for someone else. */
async function seed(user: TestUser) {
  const event = await createEvent(ctx.app, ctx.organizer);
  const rows = [];
  for (const message of ['first', 'second', 'third']) {
    ctx.clock.advance(1_000);
    rows.push(...(await notify(ctx.app.db, { userId: user.id, eventId: event.id, kind: 'registered', message }, ctx.clock.now())));
  }
  const stranger = await createUser(ctx.app);
  const [foreign] = await notify(
    ctx.app.db,
    { userId: stranger.id, eventId: null, kind: 'promoted', message: 'not yours' },
    ctx.clock.now(),
  );
  return { event, rows, stranger, foreign: foreign! };
}

describe('GET /notifications/', () => {
  it('lists only your own, newest first, with the contract fields', async () => {
    const user = await createUser(ctx.app);
    const { event, rows } = await seed(user);
    const res = await get('/notifications/', user);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.count).toBe(3);
    expect(body.results.map((n: { message: string }) => n.message)).toEqual(['third', 'second', 'first']);
    expect(body.results[0]).toEqual({
      id: rows[2]!.id,
      user: user.id,
      event: event.id,
      kind: 'registered',
      message: 'third',
      is_read: false,
      created_at: rows[2]!.createdAt.toISOString(),
    });
  });

  it('filters by is_read and pages', async () => {
    const user = await createUser(ctx.app);
    const { rows } = await seed(user);
    await ctx.app.inject({ method: 'PATCH', url: `/notifications/${rows[0]!.id}/mark-as-read/`, headers: authHeader(ctx.app, user.id) });
    const unread = (await get('/notifications/?is_read=false', user)).json();
    expect(unread.results.map((n: { message: string }) => n.message)).toEqual(['third', 'second']);
    const read = (await get('/notifications/?is_read=true', user)).json();
    expect(read.results.map((n: { message: string }) => n.message)).toEqual(['first']);
    const page = (await get('/notifications/?page_size=2&page=2', user)).json();
    expect(page).toMatchObject({ count: 3, next: null });
    expect(page.results.map((n: { message: string }) => n.message)).toEqual(['first']);
    expect((await get('/notifications/?is_read=maybe', user)).json()).toEqual({ is_read: ['Must be a valid boolean.'] });
  });

  it('a page read again shows each change at once (the JSON kept per row version is never an older one)', async () => {
    const user = await createUser(ctx.app);
    const { rows } = await seed(user);
    const messages = async () =>
      (await get('/notifications/', user)).json<{ count: number; results: Array<{ message: string; is_read: boolean }> }>();
    expect((await messages()).results.map((n) => n.is_read)).toEqual([false, false, false]);
    // The page's statement gives ids, versions and the total as the cache needs them (else every page is read twice).
    const listed = await pageVersionsForUser(ctx.app.db, user.id, {}, 10, 0);
    expect(listed.total).toBe(3);
    expect(parseVersionList(listed.list).map((row) => [row.id, typeof row.version])).toEqual(
      [...rows].reverse().map((row) => [row.id, 'string']),
    );
    await ctx.app.inject({ method: 'POST', url: '/notifications/mark-all-as-read/', headers: authHeader(ctx.app, user.id) });
    expect((await messages()).results.map((n) => n.is_read)).toEqual([true, true, true]);
    await ctx.app.inject({ method: 'DELETE', url: `/notifications/${rows[1]!.id}/`, headers: authHeader(ctx.app, user.id) });
    const after = await messages();
    expect(after.count).toBe(2);
    expect(after.results.map((n) => n.message)).toEqual(['third', 'first']);
    // Past the last page: 404 (Invalid page), as before.
    expect((await get('/notifications/?page_size=2&page=2', user)).statusCode).toBe(404);
  });

  it('needs authentication', async () => {
    expect((await ctx.app.inject({ url: '/notifications/' })).statusCode).toBe(401);
    expect((await ctx.app.inject({ url: '/notifications/unread-count/' })).statusCode).toBe(401);
    expect((await ctx.app.inject({ method: 'POST', url: '/notifications/mark-all-as-read/' })).statusCode).toBe(401);
  });
});

describe('reading state and deletion', () => {
  it("counts unread and marks one as read (200 with the notification); another user's id is 404", async () => {
    const user = await createUser(ctx.app);
    const { rows, stranger, foreign } = await seed(user);
    expect((await get('/notifications/unread-count/', user)).json()).toEqual({ unread_count: 3 });

    const res = await ctx.app.inject({
      method: 'PATCH',
      url: `/notifications/${rows[1]!.id}/mark-as-read/`,
      headers: authHeader(ctx.app, user.id),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: rows[1]!.id, is_read: true, message: 'second' });
    expect((await get('/notifications/unread-count/', user)).json()).toEqual({ unread_count: 2 });

    const again = await ctx.app.inject({
      method: 'PATCH',
      url: `/notifications/${rows[1]!.id}/mark-as-read/`,
      headers: authHeader(ctx.app, user.id),
    });
    expect(again.statusCode).toBe(200);

    for (const url of [
      `/notifications/${foreign.id}/mark-as-read/`,
      '/notifications/00000000-0000-4000-8000-000000000000/mark-as-read/',
      '/notifications/not-a-uuid/mark-as-read/',
    ]) {
      const denied = await ctx.app.inject({ method: 'PATCH', url, headers: authHeader(ctx.app, user.id) });
      expect(denied.statusCode, url).toBe(404);
    }
    expect((await get('/notifications/unread-count/', stranger)).json()).toEqual({ unread_count: 1 });
  });

  it("marks all of yours as read and nobody else's", async () => {
    const user = await createUser(ctx.app);
    const { stranger } = await seed(user);
    const res = await ctx.app.inject({ method: 'POST', url: '/notifications/mark-all-as-read/', headers: authHeader(ctx.app, user.id) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ updated: 3 });
    expect((await get('/notifications/unread-count/', user)).json()).toEqual({ unread_count: 0 });
    expect((await get('/notifications/unread-count/', stranger)).json()).toEqual({ unread_count: 1 });
    const twice = await ctx.app.inject({ method: 'POST', url: '/notifications/mark-all-as-read/', headers: authHeader(ctx.app, user.id) });
    expect(twice.json()).toEqual({ updated: 0 });
  });

  it("deletes your own; another user's is 404 and stays", async () => {
    const user = await createUser(ctx.app);
    const { rows, stranger, foreign } = await seed(user);
    const del = await ctx.app.inject({ method: 'DELETE', url: `/notifications/${rows[0]!.id}/`, headers: authHeader(ctx.app, user.id) });
    expect(del.statusCode).toBe(204);
    expect((await get('/notifications/', user)).json().count).toBe(2);
    const foreignDel = await ctx.app.inject({
      method: 'DELETE',
      url: `/notifications/${foreign.id}/`,
      headers: authHeader(ctx.app, user.id),
    });
    expect(foreignDel.statusCode).toBe(404);
    expect((await get('/notifications/', stranger)).json().count).toBe(1);
    const gone = await ctx.app.inject({ method: 'DELETE', url: `/notifications/${rows[0]!.id}/`, headers: authHeader(ctx.app, user.id) });
    expect(gone.statusCode).toBe(404);
  });
});

describe('automatic notifications', () => {
  it("notify() belongs to the caller's transaction: a rollback leaves nothing", async () => {
    const user = await createUser(ctx.app);
    await expect(
      ctx.app.db.transaction(async (tx) => {
        await notify(tx, { userId: user.id, eventId: null, kind: 'registered', message: 'x' }, ctx.clock.now());
        throw new Error('the registration failed');
      }),
    ).rejects.toThrow('the registration failed');
    expect(await notificationsOf(ctx.app.db, user.id)).toHaveLength(0);
  });

  it('a change of date_time or location notifies every live registrant once (not cancelled ones)', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { title: 'Lagos Tech Bootcamp', dateTime: new Date('2030-02-01T09:00:00Z') });
    const registered = await createUser(ctx.app);
    const waitlisted = await createUser(ctx.app);
    const cancelled = await createUser(ctx.app);
    const unrelated = await createUser(ctx.app);
    await insertRegistrationRow(ctx.app, registered.id, event.id, 'registered', 3);
    await insertRegistrationRow(ctx.app, waitlisted.id, event.id, 'waitlisted');
    await insertRegistrationRow(ctx.app, cancelled.id, event.id, 'cancelled');
    // A user who cancelled and registered again has two rows but gets one notification.
    await insertRegistrationRow(ctx.app, registered.id, event.id, 'cancelled');

    const created = await ctx.app.db.transaction((tx) =>
      notifyEventChanged(
        tx,
        event,
        {
          dateTime: { from: event.dateTime, to: new Date('2030-02-03T10:30:00Z') },
          location: { from: event.location, to: 'Abuja, Nigeria' },
        },
        ctx.clock.now(),
      ),
    );
    expect(created.map((n) => n.userId).sort()).toEqual([registered.id, waitlisted.id].sort());
    for (const user of [registered, waitlisted]) {
      const [notification] = (await get('/notifications/', user)).json().results;
      expect(notification).toMatchObject({ kind: 'event_updated', event: event.id });
      expect(notification.message).toBe(
        'The event "Lagos Tech Bootcamp" has been updated: it now starts at 2030-02-03 10:30 UTC (was 2030-02-01 09:00 UTC); ' +
          'it now takes place at Abuja, Nigeria (was Lagos, Nigeria).',
      );
    }
    for (const user of [cancelled, unrelated]) expect(await notificationsOf(ctx.app.db, user.id)).toHaveLength(0);

    const unchanged = await notifyEventChanged(
      ctx.app.db,
      event,
      { dateTime: { from: event.dateTime, to: new Date(event.dateTime) }, location: { from: 'A', to: 'A' } },
      ctx.clock.now(),
    );
    expect(unchanged).toHaveLength(0);
    const onlyPlace = await notifyEventChanged(ctx.app.db, event, { location: { from: 'A', to: 'B' } }, ctx.clock.now());
    expect(onlyPlace[0]!.message).toBe('The event "Lagos Tech Bootcamp" has been updated: it now takes place at B (was A).');
  });

  it('a cancelled event notifies every live registrant', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { title: 'Gone', dateTime: new Date('2030-03-01T18:00:00Z') });
    const registered = await createUser(ctx.app);
    const waitlisted = await createUser(ctx.app);
    const cancelled = await createUser(ctx.app);
    await insertRegistrationRow(ctx.app, registered.id, event.id);
    await insertRegistrationRow(ctx.app, waitlisted.id, event.id, 'waitlisted');
    await insertRegistrationRow(ctx.app, cancelled.id, event.id, 'cancelled');
    const created = await notifyEventCancelled(ctx.app.db, event, ctx.clock.now());
    expect(created.map((n) => n.userId).sort()).toEqual([registered.id, waitlisted.id].sort());
    expect(created[0]).toMatchObject({ kind: 'event_cancelled', message: 'The event "Gone" on 2030-03-01 18:00 UTC has been cancelled.' });
  });

  it('reaches thousands of registrants in one call', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { capacity: 5_000 });
    const userRows = await ctx.app.db
      .insert(users)
      .values(Array.from({ length: 2_500 }, (_, i) => ({ email: `bulk${i}@example.com`, username: `bulk_${i}`, passwordHash: 'x' })))
      .returning({ id: users.id });
    await ctx.app.db
      .insert(registrations)
      .values(userRows.map((u) => ({ userId: u.id, eventId: event.id, quantity: 1, status: 'registered' as const })));
    const created = await notifyEventChanged(ctx.app.db, event, { location: { from: event.location, to: 'Elsewhere' } }, ctx.clock.now());
    expect(created).toHaveLength(2_500);
  });
});

describe('POST /notifications/stream-ticket/', () => {
  it('issues a single-use ticket valid for 60 seconds', async () => {
    const user = await createUser(ctx.app);
    const res = await ctx.app.inject({ method: 'POST', url: '/notifications/stream-ticket/', headers: authHeader(ctx.app, user.id) });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['expires_at', 'ticket']);
    expect(body.ticket.length).toBeGreaterThanOrEqual(40);
    expect(body.expires_at).toBe(new Date(ctx.clock.now().getTime() + 60_000).toISOString());
    expect((await ctx.app.inject({ method: 'POST', url: '/notifications/stream-ticket/' })).statusCode).toBe(401);
  });
});
