import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outbox, webhookDeliveries, webhookEndpoints } from '../src/db/schema.js';
import { deliverDue } from '../src/modules/outbox/outbox.service.js';
import { retryDelayMs } from '../src/modules/outbox/retry-policy.js';
import { OutboxWorker } from '../src/modules/outbox/outbox.worker.js';
import { WEBHOOK_RETRY, webhookChannel } from '../src/modules/webhooks/webhooks.channel.js';
import { isForbiddenAddress } from '../src/modules/webhooks/webhooks.target.js';
import { buildTestApp, type TestContext } from './helpers/app.js';
import { authHeader, createOrganizer, createUser, createEvent, registerFor } from './helpers/factories.js';
import { WebhookReceiver, buildWebhookTestApp } from './helpers/webhooks.js';

const HOUR = 3_600_000;
const receivers: WebhookReceiver[] = [];
const receiver = async () => {
  const r = await new WebhookReceiver().start();
  receivers.push(r);
  return r;
};
afterAll(async () => Promise.all(receivers.map((r) => r.stop())));

describe('where webhooks may go', () => {
  it('loopback, private, link-local (metadata), CGNAT and mapped addresses are refused; public ones are not', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.100.100.200',
      '0.0.0.0',
      '::1',
      '::',
      'fd00:ec2::254',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
    ]) {
      expect(isForbiddenAddress(address), address).toBe(true);
    }
    for (const address of ['93.184.215.14', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      expect(isForbiddenAddress(address), address).toBe(false);
    }
  });

  it('retries span about three days: between two and four and a half, whatever the jitter', () => {
    const span = (random: () => number) =>
      Array.from({ length: WEBHOOK_RETRY.maxAttempts - 1 }, (_, i) => retryDelayMs(WEBHOOK_RETRY, i + 1, random)).reduce(
        (a, b) => a + b,
        0,
      );
    expect(span(() => 0)).toBeGreaterThan(2 * 24 * HOUR);
    expect(span(() => 1)).toBeLessThan(4.5 * 24 * HOUR);
    expect(span(() => 0.5)).toBeGreaterThan(2.75 * 24 * HOUR);
    expect(span(() => 0.5)).toBeLessThan(3.5 * 24 * HOUR);
  });

  describe('with the production defaults (https only, no internal addresses)', () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await buildTestApp();
    });
    afterAll(async () => ctx.close());

    it('an http, internal or unresolvable URL is refused with a 400 on url', async () => {
      const organizer = await createOrganizer(ctx.app);
      for (const url of [
        'http://example.com/hooks',
        'https://127.0.0.1/hooks',
        'https://localhost/hooks',
        'https://169.254.169.254/latest/meta-data/',
        'https://[::1]/hooks',
        'https://10.0.0.8/hooks',
        'https://user:pw@example.com/hooks',
        'https://no-such-host.invalid/hooks',
        'ftp://example.com/',
      ]) {
        const res = await ctx.app.inject({
          method: 'POST',
          url: '/webhooks/',
          headers: authHeader(ctx.app, organizer.id),
          payload: { url, event_types: ['registration.created'] },
        });
        expect(res.statusCode, url).toBe(400);
        expect(res.json(), url).toHaveProperty('url');
      }
    });

    it('an endpoint that points at an internal address anyway (saved earlier, or DNS changed) is refused at delivery', async () => {
      const organizer = await createOrganizer(ctx.app);
      const hooks = await receiver();
      const port = new URL(hooks.url).port;
      const event = await createEvent(ctx.app, organizer);
      for (const url of [hooks.url, `http://localhost:${port}/hooks`]) {
        await ctx.app.db
          .insert(webhookEndpoints)
          .values({ ownerId: organizer.id, url, eventTypes: ['registration.created'], secret: 'whsec_c2VjcmV0' });
      }
      await registerFor(ctx.app, await createUser(ctx.app), event.id, 1);
      const channel = webhookChannel({ config: ctx.config });
      expect(await deliverDue(ctx.app.db, [channel], ctx.clock.now())).toMatchObject({ failed: 2, sent: 0 });
      expect(hooks.received).toEqual([]);
      const attempts = await ctx.app.db.select().from(webhookDeliveries);
      expect(attempts).toHaveLength(2);
      for (const attempt of attempts)
        expect(attempt).toMatchObject({ succeeded: false, statusCode: null, error: expect.stringMatching(/internal address/) });
      const rows = await ctx.app.db.select().from(outbox).where(eq(outbox.channel, 'webhook'));
      expect(rows.map((r) => r.status)).toEqual(['failed', 'failed']);
    });
  });
});

describe('a receiver that hangs', () => {
  it('slows neither API requests nor deliveries to other endpoints', async () => {
    const ctx = await buildWebhookTestApp({ env: { WEBHOOK_TIMEOUT_MS: '6000' } });
    const workers = Array.from(
      { length: 3 },
      () => new OutboxWorker({ db: ctx.app.db, clock: ctx.clock, channels: [ctx.channel], intervalMs: 20, log: ctx.app.log, batch: 1 }),
    );
    try {
      const [slowOwner, fastOwner] = await Promise.all([createOrganizer(ctx.app), createOrganizer(ctx.app)]);
      const [hanging, healthy] = await Promise.all([receiver(), receiver()]);
      hanging.otherwise = 'hang';
      for (const [owner, hooks] of [
        [slowOwner, hanging],
        [fastOwner, healthy],
      ] as const) {
        const res = await ctx.app.inject({
          method: 'POST',
          url: '/webhooks/',
          headers: authHeader(ctx.app, owner.id),
          payload: { url: hooks.url, event_types: ['registration.created'] },
        });
        expect(res.statusCode).toBe(201);
      }
      const slowEvent = await createEvent(ctx.app, slowOwner, { capacity: 100 });
      const fastEvent = await createEvent(ctx.app, fastOwner, { capacity: 100 });
      for (const worker of workers) worker.start();
      await registerFor(ctx.app, await createUser(ctx.app), slowEvent.id, 1);
      while (hanging.received.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));

      // While the first delivery hangs: requests answer as usual, and the other endpoint gets its deliveries.
      const durations: number[] = [];
      for (let i = 0; i < 5; i++) {
        for (const event of [slowEvent, fastEvent]) {
          const user = await createUser(ctx.app);
          const started = performance.now();
          expect((await registerFor(ctx.app, user, event.id, 1)).statusCode).toBe(201);
          durations.push(performance.now() - started);
        }
      }
      while (healthy.received.length < 5) await new Promise((resolve) => setTimeout(resolve, 10));
      const slowAttempts = await ctx.app.db.select().from(webhookDeliveries);
      // The hanging delivery has not even ended: the healthy endpoint did not wait for it.
      expect(slowAttempts.filter((a) => a.statusCode !== 200)).toEqual([]);
      expect(hanging.received).toHaveLength(1);
      console.log(`registration requests while a receiver hangs: max ${Math.max(...durations).toFixed(0)} ms`);
      expect(Math.max(...durations)).toBeLessThan(3_000);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await ctx.close();
    }
  }, 30_000);
});
