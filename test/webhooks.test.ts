import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../src/db/client.js';
import { notifications, outbox, webhookEndpoints } from '../src/db/schema.js';
import { deliverDue } from '../src/modules/outbox/outbox.service.js';
import { registerOrders } from '../src/modules/registrations/registrations.service.js';
import { MAX_CONSECUTIVE_FAILURES, WEBHOOK_RETRY, webhookChannel } from '../src/modules/webhooks/webhooks.channel.js';
import { WEBHOOK_EVENT_TYPES, purgeOldDeliveries } from '../src/modules/webhooks/webhooks.service.js';
import { authHeader, createOrganizer, createStaff, createUser, type TestUser, createEvent, registerFor } from './helpers/factories.js';
import { WebhookReceiver, buildWebhookTestApp, verifyWith, type WebhookContext } from './helpers/webhooks.js';

let ctx: WebhookContext;
const receivers: WebhookReceiver[] = [];
beforeAll(async () => {
  ctx = await buildWebhookTestApp();
});
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.stop()));
  await ctx.close();
});

const receiver = async () => {
  const r = await new WebhookReceiver().start();
  receivers.push(r);
  return r;
};

const HOUR = 3_600_000;

function api(user: TestUser, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) {
  return ctx.app.inject({ method, url, headers: authHeader(ctx.app, user.id), ...(payload ? { payload } : {}) });
}

async function addEndpoint(owner: TestUser, url: string, body: Record<string, unknown> = {}) {
  const res = await api(owner, 'POST', '/webhooks/', { url, event_types: [...WEBHOOK_EVENT_TYPES], ...body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string; secret: string }>();
}

describe('webhook endpoints API', () => {
  it('an organizer adds an endpoint, sees its secret once, lists, changes and deletes it; others cannot see it', async () => {
    const organizer = await createOrganizer(ctx.app);
    const other = await createOrganizer(ctx.app);
    const staff = await createStaff(ctx.app);
    const attendee = await createUser(ctx.app);
    const event = await createEvent(ctx.app, organizer);

    const res = await api(organizer, 'POST', '/webhooks/', {
      url: 'http://127.0.0.1:9/x',
      event_types: ['registration.created'],
      event: event.id,
    });
    expect(res.statusCode, res.body).toBe(201);
    const created = res.json();
    expect(created).toMatchObject({
      url: 'http://127.0.0.1:9/x',
      event_types: ['registration.created'],
      event: event.id,
      is_active: true,
      owner: organizer.id,
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);

    const one = await api(organizer, 'GET', `/webhooks/${created.id}/`);
    expect(one.statusCode).toBe(200);
    expect(one.json()).not.toHaveProperty('secret');
    expect((await api(organizer, 'GET', '/webhooks/')).json().results.map((w: { id: string }) => w.id)).toEqual([created.id]);
    expect((await api(other, 'GET', '/webhooks/')).json().count).toBe(0);
    expect((await api(staff, 'GET', '/webhooks/')).json().results.map((w: { id: string }) => w.id)).toContain(created.id);
    expect((await api(other, 'GET', `/webhooks/${created.id}/`)).statusCode).toBe(404);
    expect((await api(other, 'PATCH', `/webhooks/${created.id}/`, { is_active: false })).statusCode).toBe(404);
    expect((await api(attendee, 'GET', '/webhooks/')).statusCode).toBe(403);
    expect((await api(attendee, 'POST', '/webhooks/', { url: 'http://127.0.0.1:9/', event_types: ['event.updated'] })).statusCode).toBe(
      403,
    );
    expect((await ctx.app.inject({ method: 'GET', url: '/webhooks/' })).statusCode).toBe(401);

    // Another organizer's event cannot be chosen; unknown types and an empty list are validation errors.
    const foreign = await api(other, 'POST', '/webhooks/', { url: 'http://127.0.0.1:9/', event_types: ['event.updated'], event: event.id });
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json()).toHaveProperty('event');
    expect(
      (await api(organizer, 'POST', '/webhooks/', { url: 'http://127.0.0.1:9/', event_types: ['registration.exploded'] })).statusCode,
    ).toBe(400);
    expect((await api(organizer, 'POST', '/webhooks/', { url: 'http://127.0.0.1:9/', event_types: [] })).statusCode).toBe(400);
    expect((await api(organizer, 'POST', '/webhooks/', { url: 'not a url', event_types: ['event.updated'] })).json()).toHaveProperty('url');

    const patched = await api(organizer, 'PATCH', `/webhooks/${created.id}/`, {
      event_types: ['event.updated', 'event.cancelled'],
      event: null,
      is_active: false,
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ event_types: ['event.updated', 'event.cancelled'], event: null, is_active: false });

    const rotated = await api(organizer, 'POST', `/webhooks/${created.id}/rotate-secret/`);
    expect(rotated.statusCode).toBe(200);
    expect(rotated.json().secret).not.toBe(created.secret);
    expect(rotated.json().previous_secret_expires_at).toBe(new Date(ctx.clock.now().getTime() + 24 * HOUR).toISOString());

    expect((await api(other, 'DELETE', `/webhooks/${created.id}/`)).statusCode).toBe(404);
    expect((await api(organizer, 'DELETE', `/webhooks/${created.id}/`)).statusCode).toBe(204);
    expect((await api(organizer, 'GET', `/webhooks/${created.id}/`)).statusCode).toBe(404);
  });
});

describe('webhook delivery to real receivers on loopback', () => {
  it('every event type arrives once, in order, signed so that the standardwebhooks package verifies it', async () => {
    const organizer = await createOrganizer(ctx.app);
    const hooks = await receiver();
    const { id: endpointId, secret } = await addEndpoint(organizer, hooks.url);
    const event = await createEvent(ctx.app, organizer, { title: 'Hook Fest', capacity: 2 });
    const [first, second, late] = await Promise.all([createUser(ctx.app), createUser(ctx.app), createUser(ctx.app)]);

    const a = (await registerFor(ctx.app, first, event.id, 2)).json();
    const b = (await registerFor(ctx.app, second, event.id, 1)).json();
    expect(b.status).toBe('waitlisted');
    expect((await api(first, 'POST', `/registrations/${a.id}/cancel/`)).statusCode).toBe(200);
    const promoted = (await api(second, 'GET', `/registrations/${b.id}/`)).json();
    expect(promoted.status).toBe('registered');
    const code = promoted.ticket_instances[0].code;
    expect((await api(organizer, 'POST', '/tickets/check-in/', { code })).statusCode).toBe(200);
    expect((await api(organizer, 'PATCH', `/events/${event.id}/edit/`, { location: 'Abuja' })).statusCode).toBe(200);
    // Feedback once the event has started.
    ctx.clock.advance(8 * 24 * HOUR);
    expect((await api(second, 'POST', '/feedbacks/', { event: event.id, rating: 5, comment: 'Great' })).statusCode).toBe(201);
    const other = await createEvent(ctx.app, organizer, { title: 'Cancelled Fest' });
    await registerFor(ctx.app, late, other.id, 1);
    expect((await api(organizer, 'DELETE', `/events/${other.id}/edit/`)).statusCode).toBe(204);

    const summary = await ctx.deliver();
    expect(summary).toMatchObject({ sent: 9, retried: 0, failed: 0 });
    expect(hooks.received.map((r) => r.json.type)).toEqual([
      'registration.created',
      'registration.waitlisted',
      'registration.cancelled',
      'registration.promoted',
      'ticket.checked_in',
      'event.updated',
      'feedback.created',
      'registration.created',
      'event.cancelled',
    ]);
    for (const delivery of hooks.received) {
      expect(verifyWith(secret, delivery)).toEqual(delivery.json);
      expect(delivery.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    }
    expect(new Set(hooks.received.map((r) => r.headers['webhook-id'])).size).toBe(9);
    const byType = (type: string) => hooks.ofType(type)[0]!.json.data;
    expect(byType('registration.created')).toEqual({
      event_id: event.id,
      event_title: 'Hook Fest',
      registration_id: a.id,
      user_id: first.id,
      status: 'registered',
      quantity: 2,
      ticket_codes: a.ticket_instances.map((t: { code: string }) => t.code),
    });
    expect(byType('registration.waitlisted')).toMatchObject({ registration_id: b.id, status: 'waitlisted', quantity: 1, ticket_codes: [] });
    expect(byType('registration.cancelled')).toMatchObject({
      registration_id: a.id,
      status: 'cancelled',
      ticket_codes: a.ticket_instances.map((t: { code: string }) => t.code),
    });
    expect(byType('registration.promoted')).toMatchObject({ registration_id: b.id, status: 'registered', ticket_codes: [code] });
    expect(byType('ticket.checked_in')).toMatchObject({ event_id: event.id, registration_id: b.id, ticket_code: code, seat: 1 });
    expect(byType('event.updated')).toMatchObject({ event_id: event.id, location: 'Abuja', capacity: 2 });
    expect(byType('feedback.created')).toMatchObject({ event_id: event.id, rating: 5, comment: 'Great', user_id: second.id });
    expect(byType('event.cancelled')).toEqual({ event_id: other.id, event_title: 'Cancelled Fest', cancelled_registrations: 1 });
    expect(hooks.received[0]!.json.timestamp).toBe('2030-01-01T00:00:00.000Z');

    // Delivered once: another pass sends nothing, and each attempt is listed.
    expect(await ctx.deliver()).toMatchObject({ sent: 0 });
    expect(hooks.received).toHaveLength(9);
    const deliveries = (await api(organizer, 'GET', `/webhooks/${endpointId}/deliveries/`)).json();
    expect(deliveries.count).toBe(9);
    expect(deliveries.results[0]).toMatchObject({
      event_type: 'event.cancelled',
      succeeded: true,
      status_code: 200,
      response_body: 'answer 200',
      next_retry_at: null,
    });
  });

  it('an endpoint for one event, or for some types, hears only those; another organizer’s endpoint hears nothing', async () => {
    const organizer = await createOrganizer(ctx.app);
    const stranger = await createOrganizer(ctx.app);
    const [onlyThis, onlyCancels, strangers] = await Promise.all([receiver(), receiver(), receiver()]);
    const event = await createEvent(ctx.app, organizer);
    const elsewhere = await createEvent(ctx.app, organizer);
    await addEndpoint(organizer, onlyThis.url, { event: event.id });
    await addEndpoint(organizer, onlyCancels.url, { event_types: ['registration.cancelled'] });
    await addEndpoint(stranger, strangers.url);
    await registerFor(ctx.app, await createUser(ctx.app), event.id, 1);
    await registerFor(ctx.app, await createUser(ctx.app), elsewhere.id, 1);
    await ctx.deliver();
    expect(onlyThis.received.map((r) => r.json.data.event_id)).toEqual([event.id]);
    expect(onlyCancels.received).toEqual([]);
    expect(strangers.received).toEqual([]);
  });

  it('a receiver answering 500 twice then 200 gets the message three times, then never again; the attempts are listed', async () => {
    const organizer = await createOrganizer(ctx.app);
    const hooks = await receiver();
    hooks.script = [{ status: 500, body: 'x'.repeat(5000) }, 500];
    const { id: endpointId } = await addEndpoint(organizer, hooks.url);
    const event = await createEvent(ctx.app, organizer);
    await registerFor(ctx.app, await createUser(ctx.app), event.id, 1);

    expect(await ctx.deliver()).toMatchObject({ retried: 1 });
    expect(await ctx.deliver()).toMatchObject({ retried: 0, sent: 0 }); // not due before its back-off
    let listed = (await api(organizer, 'GET', `/webhooks/${endpointId}/deliveries/`)).json().results;
    expect(listed[0]).toMatchObject({ succeeded: false, status_code: 500 });
    expect(listed[0].response_body).toHaveLength(1024);
    const retryAt = new Date(listed[0].next_retry_at).getTime();
    expect(retryAt - ctx.clock.now().getTime()).toBeGreaterThanOrEqual(WEBHOOK_RETRY.baseMs / 2);
    expect(retryAt - ctx.clock.now().getTime()).toBeLessThanOrEqual(WEBHOOK_RETRY.baseMs);

    ctx.clock.advance(WEBHOOK_RETRY.baseMs);
    expect(await ctx.deliver()).toMatchObject({ retried: 1 });
    ctx.clock.advance(2 * WEBHOOK_RETRY.baseMs);
    expect(await ctx.deliver()).toMatchObject({ sent: 1 });
    ctx.clock.advance(7 * 24 * HOUR);
    expect(await ctx.deliver()).toMatchObject({ sent: 0, retried: 0 });
    expect(hooks.received).toHaveLength(3);
    expect(new Set(hooks.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    listed = (await api(organizer, 'GET', `/webhooks/${endpointId}/deliveries/`)).json().results;
    expect(listed.map((d: { status_code: number }) => d.status_code)).toEqual([200, 500, 500]);
    expect(listed.every((d: { next_retry_at: string | null }) => d.next_retry_at === null)).toBe(true);
    expect((await api(organizer, 'GET', `/webhooks/${endpointId}/`)).json().consecutive_failures).toBe(0);

    // Redelivery on request: the same message again (same webhook-id).
    const again = await api(organizer, 'POST', `/webhooks/${endpointId}/deliveries/${listed[0].id}/redeliver/`);
    expect(again.statusCode, again.body).toBe(202);
    expect(await ctx.deliver()).toMatchObject({ sent: 1 });
    expect(hooks.received).toHaveLength(4);
    expect(hooks.received[3]!.headers['webhook-id']).toBe(hooks.received[0]!.headers['webhook-id']);
  });

  it('gives up after about three days of failures and records it', async () => {
    const organizer = await createOrganizer(ctx.app);
    const hooks = await receiver();
    hooks.otherwise = 503;
    await addEndpoint(organizer, hooks.url);
    await registerFor(ctx.app, await createUser(ctx.app), (await createEvent(ctx.app, organizer)).id, 1);
    const started = ctx.clock.now().getTime();
    let last = started;
    for (let attempt = 1; attempt <= WEBHOOK_RETRY.maxAttempts + 2; attempt++) {
      const summary = await ctx.deliver();
      if (summary.retried || summary.failed) last = ctx.clock.now().getTime();
      ctx.clock.advance(WEBHOOK_RETRY.maxMs);
    }
    expect(hooks.received).toHaveLength(WEBHOOK_RETRY.maxAttempts);
    const [row] = await ctx.app.db.select().from(outbox).where(eq(outbox.id, hooks.received[0]!.headers['webhook-id']!));
    expect(row).toMatchObject({ status: 'failed', attempts: WEBHOOK_RETRY.maxAttempts });
    // Advancing by the longest delay each time overestimates the span; the real schedule is checked in the policy test.
    expect(last - started).toBeGreaterThan(2 * 24 * HOUR);
  });

  it('a 410 answer turns the endpoint off at once and tells its owner in-app; nothing more is sent', async () => {
    const organizer = await createOrganizer(ctx.app);
    const hooks = await receiver();
    hooks.otherwise = 410;
    const { id } = await addEndpoint(organizer, hooks.url);
    const event = await createEvent(ctx.app, organizer);
    await registerFor(ctx.app, await createUser(ctx.app), event.id, 1);
    expect(await ctx.deliver()).toMatchObject({ failed: 1 });
    expect((await api(organizer, 'GET', `/webhooks/${id}/`)).json()).toMatchObject({ is_active: false, disabled_reason: 'gone' });
    const [notice] = await ctx.app.db.select().from(notifications).where(eq(notifications.userId, organizer.id));
    expect(notice).toMatchObject({ kind: 'webhook_disabled' });
    expect(notice!.message).toContain('410');

    await registerFor(ctx.app, await createUser(ctx.app), event.id, 1);
    ctx.clock.advance(HOUR);
    await ctx.deliver();
    expect(hooks.received).toHaveLength(1);
    // Turned on again by its owner: it hears of the next change.
    hooks.otherwise = 200;
    const on = await api(organizer, 'PATCH', `/webhooks/${id}/`, { is_active: true });
    expect(on.json()).toMatchObject({ is_active: true, disabled_reason: null, consecutive_failures: 0 });
    await registerFor(ctx.app, await createUser(ctx.app), event.id, 1);
    await ctx.deliver();
    expect(hooks.received).toHaveLength(2);
  });

  it(`${MAX_CONSECUTIVE_FAILURES} failures in a row turn the endpoint off and tell its owner`, async () => {
    const organizer = await createOrganizer(ctx.app);
    const hooks = await receiver();
    hooks.otherwise = 500;
    const { id } = await addEndpoint(organizer, hooks.url);
    // Only the last few failures are made for real; the run before them is set directly.
    await ctx.app.db
      .update(webhookEndpoints)
      .set({ consecutiveFailures: MAX_CONSECUTIVE_FAILURES - 2 })
      .where(eq(webhookEndpoints.id, id));
    const event = await createEvent(ctx.app, organizer);
    await registerFor(ctx.app, await createUser(ctx.app), event.id, 1);
    await registerFor(ctx.app, await createUser(ctx.app), event.id, 1);
    // A failed message no longer holds back the next one: both are tried in one pass.
    expect(await ctx.deliver()).toMatchObject({ retried: 2 });
    expect((await api(organizer, 'GET', `/webhooks/${id}/`)).json()).toMatchObject({
      is_active: false,
      disabled_reason: 'failing',
      consecutive_failures: MAX_CONSECUTIVE_FAILURES,
    });
    const notices = await ctx.app.db.select().from(notifications).where(eq(notifications.userId, organizer.id));
    expect(notices.map((n) => n.kind)).toEqual(['webhook_disabled']);
    ctx.clock.advance(HOUR);
    expect(await ctx.deliver()).toMatchObject({ dropped: 2 });
    expect(hooks.received).toHaveLength(2);
  });

  it('a rolled-back registration queues and sends nothing', async () => {
    const organizer = await createOrganizer(ctx.app);
    const hooks = await receiver();
    await addEndpoint(organizer, hooks.url);
    const event = await createEvent(ctx.app, organizer);
    const user = await createUser(ctx.app);
    const queued = (db: typeof ctx.app.db) => db.select().from(outbox).where(eq(outbox.channel, 'webhook'));
    const before = (await queued(ctx.app.db)).length;
    await expect(
      ctx.app.db.transaction(async (tx) => {
        const [outcome] = await registerOrders(tx, event.id, [{ user, quantity: 1, now: ctx.clock.now() }]);
        expect(outcome!.ok).toBe(true);
        expect((await queued(tx)).length).toBe(before + 1);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await queued(ctx.app.db)).length).toBe(before);
    await ctx.deliver();
    expect(hooks.received).toEqual([]);
  });

  it('two workers delivering at once never deliver one message twice', async () => {
    const organizer = await createOrganizer(ctx.app);
    const hooks = await Promise.all([receiver(), receiver(), receiver()]);
    for (const h of hooks) await addEndpoint(organizer, h.url);
    const event = await createEvent(ctx.app, organizer, { capacity: 100 });
    for (let i = 0; i < 8; i++) await registerFor(ctx.app, await createUser(ctx.app), event.id, 1);
    // The second worker as another process would be: on PostgreSQL, its own pool.
    const otherDatabase = ctx.database.url ? openPostgres(ctx.database.url, 5) : ctx.database;
    try {
      const [a, b] = await Promise.all([
        deliverDue(ctx.app.db, [ctx.channel], ctx.clock.now()),
        deliverDue(otherDatabase.db, [webhookChannel({ config: ctx.config })], ctx.clock.now()),
      ]);
      expect(a.sent + b.sent).toBe(24);
    } finally {
      if (otherDatabase !== ctx.database) await otherDatabase.close();
    }
    for (const h of hooks) {
      const ids = h.received.map((r) => r.headers['webhook-id']);
      expect(ids).toHaveLength(8);
      expect(new Set(ids).size).toBe(8);
      // Still in the order the registrations were made.
      expect(ids).toEqual([...ids].sort());
    }
  });

  it('during a rotation deliveries carry signatures by both secrets; after 24 hours only the new one', async () => {
    const organizer = await createOrganizer(ctx.app);
    const hooks = await receiver();
    const { id, secret: oldSecret } = await addEndpoint(organizer, hooks.url);
    const newSecret = (await api(organizer, 'POST', `/webhooks/${id}/rotate-secret/`)).json().secret as string;
    const event = await createEvent(ctx.app, organizer);
    await registerFor(ctx.app, await createUser(ctx.app), event.id, 1);
    await ctx.deliver();
    const during = hooks.received[0]!;
    expect(during.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(verifyWith(oldSecret, during)).toEqual(during.json);
    expect(verifyWith(newSecret, during)).toEqual(during.json);

    ctx.clock.advance(24 * HOUR + 1_000);
    expect((await api(organizer, 'PATCH', `/events/${event.id}/edit/`, { title: 'Renamed' })).statusCode).toBe(200);
    await ctx.deliver();
    const after = hooks.received[1]!;
    expect(after.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(verifyWith(newSecret, after)).toEqual(after.json);
    expect(() => verifyWith(oldSecret, after)).toThrow();
  });

  it('a ping is delivered at once outside the endpoint’s order and listed', async () => {
    const organizer = await createOrganizer(ctx.app);
    const hooks = await receiver();
    const { id, secret } = await addEndpoint(organizer, hooks.url);
    const res = await api(organizer, 'POST', `/webhooks/${id}/ping/`);
    expect(res.statusCode).toBe(202);
    await ctx.deliver();
    expect(hooks.received.map((r) => r.json)).toEqual([
      { type: 'webhook.ping', timestamp: ctx.clock.now().toISOString(), data: { endpoint_id: id } },
    ]);
    expect(hooks.received[0]!.headers['webhook-id']).toBe(res.json().message_id);
    verifyWith(secret, hooks.received[0]!);
  });

  it('attempts are kept as long as their messages (45 days), then purged', async () => {
    const organizer = await createOrganizer(ctx.app);
    const hooks = await receiver();
    const { id } = await addEndpoint(organizer, hooks.url);
    await api(organizer, 'POST', `/webhooks/${id}/ping/`);
    await ctx.deliver();
    ctx.clock.advance(44 * 24 * HOUR);
    await purgeOldDeliveries(ctx.app.db, ctx.clock.now());
    expect((await api(organizer, 'GET', `/webhooks/${id}/deliveries/`)).json().count).toBe(1);
    ctx.clock.advance(2 * 24 * HOUR);
    await purgeOldDeliveries(ctx.app.db, ctx.clock.now());
    expect((await api(organizer, 'GET', `/webhooks/${id}/deliveries/`)).json().count).toBe(0);
  });
});
