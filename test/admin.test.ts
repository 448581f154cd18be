import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, feedbacks, jobs } from '../src/db/schema.js';
import { API_VERSION } from '../src/lib/version.js';
import { buildTestApp, type TestContext } from './helpers/app.js';
import { onPostgres } from './helpers/database.js';
import {
  DEFAULT_PASSWORD,
  createCategory,
  createEvent,
  createOrganizer,
  createStaff,
  createUser,
  insertFeedback,
  insertRegistration,
  readEvent,
  type TestUser,
} from './helpers/factories.js';

let ctx: TestContext;
let staff: TestUser;
let user: TestUser;
let organizer: TestUser;
beforeAll(async () => {
  ctx = await buildTestApp();
  [staff, user, organizer] = await Promise.all([createStaff(ctx.app), createUser(ctx.app), createOrganizer(ctx.app)]);
});
afterAll(async () => ctx.close());

const get = (url: string, who: TestUser = staff) => ctx.app.inject({ url, headers: who.auth });
const send = (method: 'POST' | 'PATCH' | 'DELETE' | 'PUT', url: string, payload?: object, who: TestUser = staff) =>
  ctx.app.inject({ method, url, payload, headers: who.auth });

async function auditOf(targetId: string) {
  const res = await get(`/admin/audit-log/?target=${targetId}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().results as { action: string; actor: string; actor_email: string; before: unknown; after: unknown }[];
}

describe('who may use the admin API', () => {
  it('refuses a plain user and an organizer on every admin route, and anonymous callers with 401', async () => {
    const urls = [
      '/admin/users/',
      `/admin/users/${user.id}/`,
      '/admin/events/',
      '/admin/feedbacks/',
      '/admin/system/',
      '/admin/audit-log/',
    ];
    for (const who of [user, organizer]) {
      for (const url of urls) expect((await get(url, who)).statusCode, url).toBe(403);
      expect((await send('PATCH', `/admin/users/${who.id}/`, { is_staff: true }, who)).statusCode).toBe(403);
      expect((await send('POST', '/admin/system/integrity/', undefined, who)).statusCode).toBe(403);
    }
    expect((await ctx.app.inject({ url: '/admin/users/' })).statusCode).toBe(401);
    // Nobody made themselves staff on the way.
    expect((await get(`/admin/users/${organizer.id}/`)).json().is_staff).toBe(false);
  });
});

describe('users', () => {
  it('finds users by part of the email or username, case-insensitively, with role and state filters and pages', async () => {
    const zed = await createUser(ctx.app, { email: 'Zed.Shaw@Example.org', username: 'zshaw' });
    const zoe = await createUser(ctx.app, { email: 'zoe@example.org', username: 'ZedFan', isOrganizer: true });
    await createUser(ctx.app, { email: 'zz_off@example.org', username: 'z_off', isActive: false });
    const byEmail = (await get('/admin/users/?search=zed.SHAW')).json();
    expect(byEmail.results.map((u: { id: string }) => u.id)).toEqual([zed.id]);
    const both = (await get('/admin/users/?search=zed')).json();
    expect(both.results.map((u: { id: string }) => u.id).sort()).toEqual([zed.id, zoe.id].sort());
    expect((await get('/admin/users/?search=zed&is_organizer=true')).json().results.map((u: { id: string }) => u.id)).toEqual([zoe.id]);
    // LIKE's wildcards are plain characters in a search.
    expect((await get('/admin/users/?search=zz_')).json().count).toBe(1);
    expect((await get('/admin/users/?search=z%25f')).json().count).toBe(0);
    expect((await get('/admin/users/?search=z_off&is_active=false')).json().count).toBe(1);
    expect((await get('/admin/users/?search=z_off&is_active=true')).json().count).toBe(0);
    const staffOnly = (await get('/admin/users/?is_staff=true')).json();
    expect(staffOnly.results.every((u: { is_staff: boolean }) => u.is_staff)).toBe(true);
    const paged = (await get('/admin/users/?search=z&page_size=1&page=2')).json();
    expect(paged.results).toHaveLength(1);
    expect(paged.previous).not.toBeNull();
    expect((await get('/admin/users/?is_staff=maybe')).statusCode).toBe(400);
  });

  it("shows a user's registrations, events and feedback counts", async () => {
    const attendee = await createUser(ctx.app);
    const past = await createEvent(ctx.app, organizer, { dateTime: new Date(ctx.clock.now().getTime() - 86_400_000) });
    const upcoming = await createEvent(ctx.app, organizer);
    await insertRegistration(ctx.app.db, { userId: attendee.id, eventId: past.id, quantity: 1, status: 'registered' });
    await insertRegistration(ctx.app.db, { userId: attendee.id, eventId: upcoming.id, quantity: 2, status: 'cancelled' });
    await insertFeedback(ctx.app.db, { userId: attendee.id, eventId: past.id, rating: 5 });
    const res = await get(`/admin/users/${attendee.id}/`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: attendee.id, email: attendee.email, counts: { registrations: 2, events: 0, feedbacks: 1 } });
    expect((await get(`/admin/users/${organizer.id}/`)).json().counts.events).toBeGreaterThanOrEqual(2);
    expect((await get('/admin/users/00000000-0000-4000-8000-000000000000/')).statusCode).toBe(404);
  });

  it('deactivates a user, whose very next call with a valid token is refused, and whose refresh token stops working', async () => {
    const spammer = await createUser(ctx.app);
    const login = await ctx.app.inject({
      method: 'POST',
      url: '/auth/login/',
      payload: { email: spammer.email, password: DEFAULT_PASSWORD },
    });
    const { refresh } = login.json();
    expect((await get('/auth/me/', spammer)).statusCode).toBe(200);
    const res = await send('PATCH', `/admin/users/${spammer.id}/`, { is_active: false });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().is_active).toBe(false);
    expect((await get('/auth/me/', spammer)).statusCode).toBe(401);
    expect((await ctx.app.inject({ method: 'POST', url: '/auth/token/refresh/', payload: { refresh } })).statusCode).toBe(401);
    const [entry] = await auditOf(spammer.id);
    expect(entry).toMatchObject({
      action: 'user.update',
      actor: staff.id,
      actor_email: staff.email,
      before: { email: spammer.email, is_active: true },
      after: { is_active: false },
    });

    expect((await send('PATCH', `/admin/users/${spammer.id}/`, { is_active: true })).json().is_active).toBe(true);
    expect((await get('/auth/me/', spammer)).statusCode).toBe(200);
  });

  it('grants and removes organizer and staff, records only what changed, and records nothing for a no-op', async () => {
    const someone = await createUser(ctx.app);
    const granted = await send('PATCH', `/admin/users/${someone.id}/`, { is_organizer: true, is_staff: false });
    expect(granted.json()).toMatchObject({ is_organizer: true, is_staff: false });
    expect((await get('/events/mine/', someone)).statusCode).toBe(200);
    const created = await send(
      'POST',
      '/events/create/',
      { title: 'Now I organize', location: 'Hall', date_time: '2030-05-01T10:00:00Z', capacity: 5 },
      someone,
    );
    expect(created.statusCode).toBe(201);
    await send('PATCH', `/admin/users/${someone.id}/`, { is_staff: true });
    expect((await get('/admin/system/', someone)).statusCode).toBe(200);
    await send('PATCH', `/admin/users/${someone.id}/`, { is_staff: false });
    expect((await get('/admin/system/', someone)).statusCode).toBe(403);
    await send('PATCH', `/admin/users/${someone.id}/`, { is_organizer: true });
    const entries = await auditOf(someone.id);
    expect(entries.map((e) => e.after)).toEqual([{ is_staff: false }, { is_staff: true }, { is_organizer: true }]);
  });

  it('refuses to let staff remove their own staff flag or deactivate themselves', async () => {
    const res = await send('PATCH', `/admin/users/${staff.id}/`, { is_staff: false, is_active: false });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ is_staff: ['You cannot remove your own staff flag.'], is_active: ['You cannot deactivate yourself.'] });
    // Their other roles they may change.
    expect((await send('PATCH', `/admin/users/${staff.id}/`, { is_organizer: true })).statusCode).toBe(200);
    expect((await get('/auth/me/')).json()).toMatchObject({ is_staff: true, is_active: true });
  });

  it('never leaves the system without an active staff user: two staff demoting each other at once, one wins', async () => {
    // On a database of its own, so these two are the only staff.
    const own = await buildTestApp();
    try {
      const [a, b] = await Promise.all([createStaff(own.app), createStaff(own.app)]);
      const [ra, rb] = await Promise.all([
        own.app.inject({ method: 'PATCH', url: `/admin/users/${b.id}/`, payload: { is_staff: false }, headers: a.auth }),
        own.app.inject({ method: 'PATCH', url: `/admin/users/${a.id}/`, payload: { is_active: false }, headers: b.auth }),
      ]);
      expect([ra.statusCode, rb.statusCode].sort()).toEqual([200, 403]);
      const left = await own.app.inject({
        url: '/admin/users/?is_staff=true&is_active=true',
        headers: (ra.statusCode === 200 ? a : b).auth,
      });
      expect(left.json().count).toBe(1);
    } finally {
      await own.close();
    }
  });

  it('answers 404 for an unknown user and 400 for a malformed body', async () => {
    expect((await send('PATCH', '/admin/users/00000000-0000-4000-8000-000000000000/', { is_active: false })).statusCode).toBe(404);
    expect((await send('PATCH', `/admin/users/${user.id}/`, { is_active: 'no' })).statusCode).toBe(400);
    // Fields other than the three flags change nothing.
    const unchanged = await send('PATCH', `/admin/users/${user.id}/`, { email: 'taken.over@example.com', is_active: true });
    expect(unchanged.statusCode).toBe(200);
    expect(unchanged.json().email).toBe(user.email);
    expect(await auditOf(user.id)).toEqual([]);
  });
});

describe('categories, events and feedback changed by staff are audited', () => {
  it('records category create, rename and slug change, and delete with before and after', async () => {
    const created = await send('POST', '/categories/', { name: 'Street food' });
    const id = created.json().id;
    await send('PATCH', `/categories/${id}/`, { name: 'Street Food', slug: 'food' });
    const event = await createEvent(ctx.app, organizer, { categoryId: id });
    expect((await send('DELETE', `/categories/${id}/`)).statusCode).toBe(204);
    expect((await readEvent(ctx.app, event.id)).categoryId).toBeNull();
    const entries = await auditOf(id);
    expect(entries.map((e) => [e.action, e.before, e.after])).toEqual([
      ['category.delete', { name: 'Street Food', slug: 'food' }, null],
      ['category.update', { name: 'Street food', slug: 'street-food' }, { name: 'Street Food', slug: 'food' }],
      ['category.create', null, { name: 'Street food', slug: 'street-food' }],
    ]);
    // A refused change leaves no entry.
    const other = await createCategory(ctx.app);
    expect((await send('PATCH', `/categories/${other.id}/`, { slug: 'other-slug' }, organizer)).statusCode).toBe(403);
    expect(await auditOf(other.id)).toEqual([]);
  });

  it('lists every event for staff, cancelled and past ones included, unpublishes (deactivates) and republishes them', async () => {
    const owner = await createOrganizer(ctx.app);
    const live = await createEvent(ctx.app, owner, { title: 'Admin live one' });
    await createEvent(ctx.app, owner, { title: 'Admin past one', dateTime: new Date(ctx.clock.now().getTime() - 86_400_000) });
    const holder = await createUser(ctx.app);
    await insertRegistration(ctx.app.db, { userId: holder.id, eventId: live.id, quantity: 2, status: 'registered' });

    const deactivated = await send('POST', `/admin/events/${live.id}/deactivate/`);
    expect(deactivated.statusCode, deactivated.body).toBe(200);
    // Deactivating unpublishes (reversible): the registrations are kept.
    expect(deactivated.json()).toMatchObject({ is_active: false, status: 'unpublished', registered_count: 2 });
    const list = (q: string) =>
      get(`/admin/events/?organizer=${owner.id}${q}`).then((r) => r.json().results.map((e: { title: string }) => e.title));
    expect(await list('')).toEqual(['Admin live one']);
    expect((await list('&include_past=true')).sort()).toEqual(['Admin live one', 'Admin past one']);
    expect(await list('&is_active=false')).toEqual(['Admin live one']);
    expect(await list('&include_past=true&is_active=true')).toEqual(['Admin past one']);
    expect(await list('&include_past=true&search=past')).toEqual(['Admin past one']);
    // The public list does not show the cancelled one.
    expect((await ctx.app.inject({ url: `/events/?organizer=${owner.id}` })).json().count).toBe(0);

    const reactivated = await send('POST', `/admin/events/${live.id}/reactivate/`);
    expect(reactivated.json().is_active).toBe(true);
    expect((await ctx.app.inject({ url: `/events/?organizer=${owner.id}` })).json().count).toBe(1);
    // Again: nothing changes and nothing more is recorded.
    await send('POST', `/admin/events/${live.id}/reactivate/`);
    const entries = await auditOf(live.id);
    expect(entries.map((e) => e.action)).toEqual(['event.reactivate', 'event.deactivate']);
    expect(entries[1]!.after).toEqual({ is_active: false });
    // The organizer's own cancellation is theirs, not a staff action.
    const own = await createEvent(ctx.app, owner);
    const organizerToken = { ...owner };
    expect((await send('DELETE', `/events/${own.id}/edit/`, undefined, organizerToken)).statusCode).toBe(204);
    expect(await auditOf(own.id)).toEqual([]);
    // A cancelled event stays cancelled: staff cannot reactivate it either.
    const refused = await send('POST', `/admin/events/${own.id}/reactivate/`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('event_cancelled');
    expect((await send('POST', `/admin/events/${own.id}/reactivate/`, undefined, owner)).statusCode).toBe(403);
  });

  it('lists feedback across events with filters, and a staff deletion moves the average and is recorded', async () => {
    const event = await createEvent(ctx.app, organizer, {
      title: 'Rated show',
      dateTime: new Date(ctx.clock.now().getTime() - 86_400_000),
    });
    const [kind, rude] = await Promise.all([createUser(ctx.app), createUser(ctx.app)]);
    for (const who of [kind, rude])
      await insertRegistration(ctx.app.db, { userId: who.id, eventId: event.id, quantity: 1, status: 'registered' });
    await insertFeedback(ctx.app.db, { userId: kind.id, eventId: event.id, rating: 5 });
    await insertFeedback(ctx.app.db, { userId: rude.id, eventId: event.id, rating: 1 });
    expect((await ctx.app.inject({ url: `/events/${event.id}/` })).json().rating_average).toBe(3);

    const ones = (await get(`/admin/feedbacks/?event=${event.id}&rating=1`)).json();
    expect(ones.count).toBe(1);
    expect(ones.results[0]).toMatchObject({
      event: event.id,
      event_title: 'Rated show',
      user: rude.id,
      user_email: rude.email,
      user_username: rude.username,
      rating: 1,
    });
    const id = ones.results[0].id;
    expect((await send('DELETE', `/feedbacks/${id}/`)).statusCode).toBe(204);
    expect((await ctx.app.inject({ url: `/events/${event.id}/` })).json()).toMatchObject({ rating_average: 5, rating_count: 1 });
    const [entry] = await auditOf(id);
    expect(entry).toMatchObject({ action: 'feedback.delete', before: { event: event.id, user: rude.id, rating: 1 }, after: null });

    // An author deleting their own feedback is not moderation.
    const [own] = await ctx.app.db.select().from(feedbacks).where(eq(feedbacks.userId, kind.id));
    expect((await send('DELETE', `/feedbacks/${own!.id}/`, undefined, kind)).statusCode).toBe(204);
    expect(await auditOf(own!.id)).toEqual([]);
  });
});

describe('system status', () => {
  it('shows the version, the database kind, row counts and pending jobs; runs the integrity checker on demand', async () => {
    await ctx.app.db.insert(jobs).values({ key: 'admin-test-job', kind: 'event_reminder', runAt: new Date('2030-02-01T00:00:00Z') });
    const res = await get('/admin/system/');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.version).toBe(API_VERSION);
    expect(body.database).toBe(onPostgres ? 'postgresql' : 'embedded');
    expect(body.counts.users).toBeGreaterThanOrEqual(3);
    expect(Object.keys(body.counts).sort()).toEqual(['events', 'feedbacks', 'registrations', 'tickets', 'users']);
    expect(body.pending_jobs.count).toBeGreaterThanOrEqual(1);
    expect(body.pending_jobs.next).toContainEqual(
      expect.objectContaining({ kind: 'event_reminder', run_at: '2030-02-01T00:00:00.000Z', attempts: 0 }),
    );

    const healthy = await send('POST', '/admin/system/integrity/');
    expect(healthy.json()).toMatchObject({ ok: true, problems: [] });
    const event = await createEvent(ctx.app, organizer);
    await ctx.app.db.execute(sql`UPDATE events SET registered_count = 3 WHERE id = ${event.id}`);
    const broken = (await send('POST', '/admin/system/integrity/')).json();
    expect(broken.ok).toBe(false);
    expect(broken.problems).toContainEqual({ check: 'registered_count', detail: expect.stringContaining(event.id) });
    await ctx.app.db.execute(sql`UPDATE events SET registered_count = 0 WHERE id = ${event.id}`);
  });
});

describe('the audit log', () => {
  it('filters by action, actor, target type and date', async () => {
    const other = await createStaff(ctx.app);
    const target = await createUser(ctx.app);
    await send('PATCH', `/admin/users/${target.id}/`, { is_organizer: true }, other);
    const byActor = (await get(`/admin/audit-log/?actor=${other.id}`)).json();
    expect(byActor.results.map((e: { target_id: string }) => e.target_id)).toEqual([target.id]);
    const byAction = (await get('/admin/audit-log/?action=category.create')).json();
    expect(byAction.results.every((e: { action: string }) => e.action === 'category.create')).toBe(true);
    expect(byAction.count).toBeGreaterThan(0);
    expect(
      (await get('/admin/audit-log/?target_type=feedback'))
        .json()
        .results.every((e: { target_type: string }) => e.target_type === 'feedback'),
    ).toBe(true);
    // The test clock stands at 2030-01-01.
    expect((await get(`/admin/audit-log/?actor=${other.id}&date_from=2030-01-01&date_to=2030-01-01`)).json().count).toBe(1);
    expect((await get(`/admin/audit-log/?actor=${other.id}&date_from=2030-01-02`)).json().count).toBe(0);
    expect((await get('/admin/audit-log/?date_from=yesterday')).json()).toHaveProperty('date_from');
    expect((await get('/admin/audit-log/?action=user.delete')).statusCode).toBe(400);
  });

  it('is append-only in the database itself: rows cannot be changed or removed, by anyone', async () => {
    const [row] = await ctx.app.db.select().from(auditLog).limit(1);
    expect(row).toBeDefined();
    await expect(ctx.app.db.execute(sql`UPDATE audit_log SET action = 'forged' WHERE id = ${row!.id}`)).rejects.toThrow();
    await expect(ctx.app.db.execute(sql`DELETE FROM audit_log WHERE id = ${row!.id}`)).rejects.toThrow();
    const [again] = await ctx.app.db.select().from(auditLog).where(eq(auditLog.id, row!.id));
    expect(again!.action).toBe(row!.action);
  });
});
