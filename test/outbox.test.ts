import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailChannel } from '../src/modules/mail/mail.channel.js';
import { createMailTransport } from '../src/modules/mail/mail.transport.js';
import { claimDue, settle } from '../src/modules/outbox/outbox.repository.js';
import { LEASE_MS, deliverDue, enqueue, requeue, type OutboxChannel } from '../src/modules/outbox/outbox.service.js';
import { retryDelayMs } from '../src/modules/outbox/retry-policy.js';
import { buildTestApp, type TestContext } from './helpers/app.js';
import { createUser } from './helpers/factories.js';
import { MAIL_ENV, outboxRows } from './helpers/mail.js';

describe('retry delays', () => {
  const policy = { baseMs: 30_000, maxMs: 2 * 3600_000, maxAttempts: 20 };
  it('grow exponentially up to the cap, with jitter in the upper half', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempts, r) => {
        const nominal = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempts - 1));
        const delay = retryDelayMs(policy, attempts, () => r);
        return delay >= nominal / 2 && delay <= nominal;
      }),
    );
    expect(retryDelayMs(policy, 1, () => 0)).toBe(15_000);
    expect(retryDelayMs(policy, 3, () => 0.999999)).toBe(120_000);
    expect(retryDelayMs(policy, 30, () => 0)).toBe(3600_000);
  });
});

describe('outbox', () => {
  let ctx: TestContext;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mail-'));
    ctx = await buildTestApp({ env: { ...MAIL_ENV, DATA_DIR: dataDir } });
  });
  afterAll(async () => {
    await ctx.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('without SMTP_URL, mails are written as .eml files under DATA_DIR/mail/', async () => {
    const user = await createUser(ctx.app);
    await ctx.app.inject({ method: 'POST', url: '/auth/password/reset/', payload: { email: user.email } });
    const transport = createMailTransport(ctx.config);
    expect(transport.destination).toBe(path.join(dataDir, 'mail'));
    const channel = emailChannel({ config: ctx.config, transport, signer: ctx.app.linkSigner });
    expect(await deliverDue(ctx.app.db, [channel], ctx.clock.now())).toMatchObject({ sent: 1 });
    transport.close();
    const files = fs.readdirSync(path.join(dataDir, 'mail'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/password_reset-[0-9a-f-]{36}\.eml$/);
    const parsed = await simpleParser(fs.readFileSync(path.join(dataDir, 'mail', files[0]!)));
    expect(parsed.subject).toBe('Reset your password');
    expect(parsed.to).toMatchObject({ value: [{ address: user.email }] });
  });

  it('a channel that throws is retried later, then recorded as failed after its last attempt; other channels are untouched', async () => {
    let calls = 0;
    const flaky: OutboxChannel = {
      name: 'flaky',
      retry: { baseMs: 1_000, maxMs: 10_000, maxAttempts: 3 },
      deliver: async () => {
        calls++;
        throw new Error('receiver exploded');
      },
    };
    const [row] = await enqueue(ctx.app.db, [{ channel: 'flaky', payload: { n: 1 } }], ctx.clock.now());
    for (let i = 0; i < 5; i++) {
      await deliverDue(ctx.app.db, [flaky], ctx.clock.now());
      ctx.clock.advance(60_000);
    }
    expect(calls).toBe(3);
    const rows = (await ctx.app.db.query.outbox.findMany()).filter((r) => r.id === row!.id);
    expect(rows[0]).toMatchObject({ status: 'failed', attempts: 3 });
    expect(rows[0]!.lastError).toContain('receiver exploded');
    expect((await outboxRows(ctx)).every((r) => r.status === 'sent')).toBe(true);
  });

  it('a dedupe key queues a message once', async () => {
    const first = await enqueue(ctx.app.db, [{ channel: 'flaky', payload: {}, dedupeKey: 'once' }], ctx.clock.now());
    const second = await enqueue(ctx.app.db, [{ channel: 'flaky', payload: {}, dedupeKey: 'once' }], ctx.clock.now());
    expect([first.length, second.length]).toEqual([1, 0]);
  });
});

describe('outbox leases', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await buildTestApp();
  });
  afterAll(async () => ctx.close());

  it('a message claimed by a worker that died comes due again when its lease ends; the dead worker cannot record over it', async () => {
    const delivered: string[] = [];
    const channel: OutboxChannel = {
      name: 'record',
      retry: { baseMs: 1_000, maxMs: 10_000, maxAttempts: 3 },
      deliver: async (row) => {
        delivered.push(row.id);
        return { status: 'sent' };
      },
    };
    const [row] = await enqueue(ctx.app.db, [{ channel: 'record', payload: {} }], ctx.clock.now());
    const leaseUntil = new Date(ctx.clock.now().getTime() + LEASE_MS);
    const [claimed] = await claimDue(ctx.app.db, ['record'], ctx.clock.now(), leaseUntil, randomUUID(), 10);
    expect(claimed!.id).toBe(row!.id);

    expect(await deliverDue(ctx.app.db, [channel], ctx.clock.now())).toMatchObject({ sent: 0 });
    ctx.clock.advance(LEASE_MS);
    expect(await deliverDue(ctx.app.db, [channel], ctx.clock.now())).toMatchObject({ sent: 1 });
    expect(delivered).toEqual([row!.id]);
    expect(await settle(ctx.app.db, row!.id, claimed!.claimToken!, { status: 'failed' }, ctx.clock.now())).toBe(false);
    const [after] = (await ctx.app.db.query.outbox.findMany()).filter((r) => r.id === row!.id);
    expect(after).toMatchObject({ status: 'sent', attempts: 2 });
  });
});

describe('outbox ordering keys', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await buildTestApp();
  });
  afterAll(async () => ctx.close());

  it('messages of one key go one at a time, oldest first, waiting out a failing one; other keys are not held up', async () => {
    const delivered: string[] = [];
    let failuresLeft = 2;
    const channel: OutboxChannel = {
      name: 'ordered',
      retry: { baseMs: 10_000, maxMs: 60_000, maxAttempts: 10 },
      deliver: async (row) => {
        const label = (row.payload as { label: string }).label;
        if (label === 'a1' && failuresLeft-- > 0) return { status: 'retry', error: '503 from the receiver' };
        delivered.push(label);
        return { status: 'sent' };
      },
    };
    for (const [label, key] of [
      ['a1', 'A'],
      ['a2', 'A'],
      ['b1', 'B'],
      ['a3', 'A'],
      ['b2', 'B'],
      ['n1', undefined],
    ] as const) {
      await enqueue(ctx.app.db, [{ channel: 'ordered', payload: { label }, ...(key ? { orderingKey: key } : {}) }], ctx.clock.now());
      ctx.clock.advance(1);
    }
    const pass = () => deliverDue(ctx.app.db, [channel], ctx.clock.now());
    await pass();
    // a1 failed: a2 and a3 wait behind it; B's queue (in its order) and the unordered message went.
    expect(delivered.filter((l) => l.startsWith('b'))).toEqual(['b1', 'b2']);
    expect([...delivered].sort()).toEqual(['b1', 'b2', 'n1']);
    ctx.clock.advance(60_000);
    await pass();
    expect(delivered).toHaveLength(3);
    ctx.clock.advance(60_000);
    await pass();
    expect(delivered.slice(3)).toEqual(['a1', 'a2', 'a3']);
  });

  it('a finished message can be queued again (redelivery) and goes out once more', async () => {
    const seen: string[] = [];
    const channel: OutboxChannel = {
      name: 'again',
      retry: { baseMs: 1_000, maxMs: 1_000, maxAttempts: 1 },
      deliver: async (row) => {
        seen.push(row.id);
        return { status: 'sent' };
      },
    };
    const [row] = await enqueue(ctx.app.db, [{ channel: 'again', payload: {} }], ctx.clock.now());
    await deliverDue(ctx.app.db, [channel], ctx.clock.now());
    expect(await requeue(ctx.app.db, row!.id, ctx.clock.now())).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await requeue(ctx.app.db, row!.id, ctx.clock.now())).toBeUndefined();
    await deliverDue(ctx.app.db, [channel], ctx.clock.now());
    expect(seen).toEqual([row!.id, row!.id]);
  });
});
