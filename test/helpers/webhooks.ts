import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { vi } from 'vitest';
import { ManualClock } from '../../src/lib/clock.js';
import { deliverDue, type OutboxChannel } from '../../src/modules/outbox/outbox.service.js';
import { webhookChannel } from '../../src/modules/webhooks/webhooks.channel.js';
import { buildTestApp, type TestContext } from './app.js';
import type { TestDatabase } from './database.js';

export interface ReceivedWebhook {
  headers: Record<string, string>;
  body: string;
  json: { type: string; timestamp: string; data: Record<string, unknown> };
}

/** What the receiver answers: a status (with an optional body), or `hang` (never answers). */
export type Answer = number | { status: number; body: string } | 'hang';

/**
 * A real HTTP server on loopback that records every webhook it gets. It answers from `script` (one entry per
 * request, in turn), then `otherwise` (200).
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  script: Answer[] = [];
  otherwise: Answer = 200;
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      this.received.push({ headers: req.headers as Record<string, string>, body, json: JSON.parse(body) });
      const answer = this.script.shift() ?? this.otherwise;
      if (answer === 'hang') return;
      const { status, body: text } = typeof answer === 'number' ? { status: answer, body: `answer ${answer}` } : answer;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
    });
  });

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  ofType(type: string): ReceivedWebhook[] {
    return this.received.filter((r) => r.json.type === type);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Verifies a delivery with the `standardwebhooks` package (an implementation independent of ours), at the time
 * it was signed: the package checks the timestamp against its own clock, and the test clock is elsewhere.
 */
export function verifyWith(secret: string, delivery: ReceivedWebhook): unknown {
  vi.useFakeTimers({ toFake: ['Date'], now: Number(delivery.headers['webhook-timestamp']) * 1000 });
  try {
    return new Webhook(secret).verify(delivery.body, delivery.headers);
  } finally {
    vi.useRealTimers();
  }
}

export const WEBHOOK_TEST_ENV = { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE: 'true' };

export interface WebhookContext extends TestContext {
  channel: OutboxChannel;
  /** One delivery pass at the test clock's now, as an outbox worker runs it. */
  deliver(): ReturnType<typeof deliverDue>;
}

export async function buildWebhookTestApp(
  options: { env?: Record<string, string>; database?: TestDatabase; clock?: ManualClock } = {},
): Promise<WebhookContext> {
  const ctx = await buildTestApp({ ...options, env: { ...WEBHOOK_TEST_ENV, ...options.env } });
  const channel = webhookChannel({ config: ctx.config });
  return { ...ctx, channel, deliver: () => deliverDue(ctx.app.db, [channel], ctx.clock.now()) };
}
