import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { idempotencyKeys, registrations } from '../src/db/schema.js';
import { runDueJobs } from '../src/scheduled-jobs.js';
import { appWithOrganizer, authHeader, createEvent, createUser, readEvent, registerFor } from './helpers/factories.js';

const ctx = appWithOrganizer();

const HOUR = 3600 * 1000;
const key = (k: string) => ({ 'idempotency-key': k });

async function registrationsOf(userId: string, eventId: string) {
  return ctx.app.db
    .select()
    .from(registrations)
    .where(and(eq(registrations.userId, userId), eq(registrations.eventId, eventId)));
}

describe('Idempotency-Key on POST /registrations/', () => {
  it('replays the first response for a retry with the same key and body', async () => {
    const event = await createEvent(ctx.app, ctx.organizer);
    const user = await createUser(ctx.app);
    const first = await registerFor(ctx.app, user, event.id, 2, key('retry-1'));
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const retry = await registerFor(ctx.app, user, event.id, 2, key('retry-1'));
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toEqual(first.json());
    expect(await registrationsOf(user.id, event.id)).toHaveLength(1);
    expect((await readEvent(ctx.app, event.id)).registeredCount).toBe(2);
    // Without a key the same request acts again, and is refused as a duplicate.
    expect((await registerFor(ctx.app, user, event.id, 2)).statusCode).toBe(400);
  });

  it('answers 422 when the key comes back with another body or for another action', async () => {
    const event = await createEvent(ctx.app, ctx.organizer);
    const user = await createUser(ctx.app);
    expect((await registerFor(ctx.app, user, event.id, 1, key('k-422'))).statusCode).toBe(201);
    const other = await registerFor(ctx.app, user, event.id, 3, key('k-422'));
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({ code: 'idempotency_key_reused', detail: expect.any(String) });
    const reg = (await registrationsOf(user.id, event.id))[0]!;
    const cancelWithSameKey = await ctx.app.inject({
      method: 'POST',
      url: `/registrations/${reg.id}/cancel/`,
      headers: { ...authHeader(ctx.app, user.id), ...key('k-422') },
    });
    expect(cancelWithSameKey.statusCode).toBe(422);
    expect((await readEvent(ctx.app, event.id)).registeredCount).toBe(1);
  });

  it('scopes keys per user', async () => {
    const event = await createEvent(ctx.app, ctx.organizer);
    const [a, b] = [await createUser(ctx.app), await createUser(ctx.app)];
    const ra = await registerFor(ctx.app, a, event.id, 1, key('shared'));
    const rb = await registerFor(ctx.app, b, event.id, 1, key('shared'));
    expect([ra.statusCode, rb.statusCode]).toEqual([201, 201]);
    expect(ra.json().id).not.toBe(rb.json().id);
    expect(rb.headers['idempotent-replayed']).toBeUndefined();
  });

  it('replays a refusal too, so a retry never acts differently from the first answer', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { capacity: 1 });
    const user = await createUser(ctx.app);
    expect((await registerFor(ctx.app, user, event.id, 1)).statusCode).toBe(201);
    const refused = await registerFor(ctx.app, user, event.id, 1, key('refused'));
    expect(refused.statusCode).toBe(400);
    const again = await registerFor(ctx.app, user, event.id, 1, key('refused'));
    expect(again.statusCode).toBe(400);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(refused.json());
  });

  it('lets concurrent duplicates wait for the first and replay its answer', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { capacity: 50 });
    const user = await createUser(ctx.app);
    const responses = await Promise.all(Array.from({ length: 8 }, () => registerFor(ctx.app, user, event.id, 3, key('burst'))));
    expect(responses.map((r) => r.statusCode)).toEqual(Array(8).fill(201));
    expect(new Set(responses.map((r) => r.json().id)).size).toBe(1);
    expect(responses.filter((r) => r.headers['idempotent-replayed'] !== 'true')).toHaveLength(1);
    expect(await registrationsOf(user.id, event.id)).toHaveLength(1);
    expect((await readEvent(ctx.app, event.id)).registeredCount).toBe(3);
  });

  it('forgets keys after 24 hours', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { dateTime: new Date(ctx.clock.now().getTime() + 30 * 24 * HOUR) });
    const user = await createUser(ctx.app);
    expect((await registerFor(ctx.app, user, event.id, 1, key('old'))).statusCode).toBe(201);
    ctx.clock.advance(23 * HOUR);
    expect((await registerFor(ctx.app, user, event.id, 2, key('old'))).statusCode).toBe(422);
    ctx.clock.advance(2 * HOUR);
    // A day later the key means nothing: this request is judged on its own (a duplicate registration).
    const late = await registerFor(ctx.app, user, event.id, 2, key('old'));
    expect(late.statusCode).toBe(400);
    expect(late.json()).toMatchObject({ code: 'already_registered' });
    const rows = await ctx.app.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.userId, user.id));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.createdAt.toISOString()).toBe(ctx.clock.now().toISOString());
  });

  it("is purged by the scheduler's pass once a day old, not by the requests", async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { dateTime: new Date(ctx.clock.now().getTime() + 30 * 24 * HOUR) });
    const user = await createUser(ctx.app);
    const other = await createUser(ctx.app);
    expect((await registerFor(ctx.app, user, event.id, 1, key('purge-me'))).statusCode).toBe(201);
    ctx.clock.advance(25 * HOUR);
    expect((await registerFor(ctx.app, other, event.id, 1, key('fresh'))).statusCode).toBe(201);
    const keysOf = async (id: string) => ctx.app.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.userId, id));
    expect(await keysOf(user.id)).toHaveLength(1); // expired, but still stored: requests do not delete
    await runDueJobs(ctx.app.db, ctx.clock.now(), ctx.config);
    expect(await keysOf(user.id)).toHaveLength(0);
    expect(await keysOf(other.id)).toHaveLength(1);
  });

  it('rejects an over-long key', async () => {
    const event = await createEvent(ctx.app, ctx.organizer);
    const user = await createUser(ctx.app);
    const res = await registerFor(ctx.app, user, event.id, 1, key('x'.repeat(256)));
    expect(res.statusCode).toBe(400);
    expect(await registrationsOf(user.id, event.id)).toHaveLength(0);
  });
});

describe('Idempotency-Key on cancel and check-in', () => {
  it('replays a cancellation instead of answering "already cancelled"', async () => {
    const event = await createEvent(ctx.app, ctx.organizer);
    const user = await createUser(ctx.app);
    const reg = (await registerFor(ctx.app, user, event.id, 1)).json();
    const cancel = () =>
      ctx.app.inject({
        method: 'POST',
        url: `/registrations/${reg.id}/cancel/`,
        headers: { ...authHeader(ctx.app, user.id), ...key('cancel-1') },
      });
    const first = await cancel();
    const retry = await cancel();
    expect([first.statusCode, retry.statusCode]).toEqual([200, 200]);
    expect(retry.json()).toEqual(first.json());
  });

  it('replays a check-in instead of answering "already checked in"', async () => {
    const event = await createEvent(ctx.app, ctx.organizer);
    const user = await createUser(ctx.app);
    const code = (await registerFor(ctx.app, user, event.id, 1)).json().ticket_instances[0].code;
    const scan = (k: Record<string, string>) =>
      ctx.app.inject({
        method: 'POST',
        url: '/tickets/check-in/',
        headers: { ...authHeader(ctx.app, ctx.organizer.id), ...k },
        payload: { code },
      });
    const first = await scan(key('scan-1'));
    ctx.clock.advance(1000);
    const retry = await scan(key('scan-1'));
    expect([first.statusCode, retry.statusCode]).toEqual([200, 200]);
    expect(retry.json()).toEqual(first.json());
    const fresh = await scan(key('scan-2'));
    expect(fresh.statusCode).toBe(409);
    expect(fresh.json()).toMatchObject({ code: 'already_checked_in', used_at: first.json().used_at });
  });
});
