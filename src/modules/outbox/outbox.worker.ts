import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { Poller } from '../../lib/poller.js';
import { deliverDue, type OutboxChannel } from './outbox.service.js';

/**
 * Delivers the outbox in the background (lib/poller.ts): a pass at start (whatever queued while no process ran),
 * then one every `intervalMs`, and at once again after a pass that found a full load. Every process may run one
 * (claims never collide). Delivery failures never reach a request: they are recorded on the message and retried.
 */
export class OutboxWorker extends Poller {
  constructor(options: {
    db: Db;
    clock: Clock;
    channels: OutboxChannel[];
    intervalMs: number;
    log: FastifyBaseLogger;
    /** Messages per pass. */
    batch?: number;
  }) {
    const batch = options.batch ?? 100;
    super({
      pass: async () => {
        const result = await deliverDue(options.db, options.channels, options.clock.now(), batch);
        const handled = result.sent + result.retried + result.failed + result.dropped + result.lost;
        if (result.retried || result.failed || result.lost) options.log.warn({ outbox: result }, 'outbox delivery had failures');
        else if (handled) options.log.debug({ outbox: result }, 'outbox delivered');
        return handled >= batch;
      },
      intervalMs: options.intervalMs,
      log: options.log,
      failure: 'outbox pass failed; retrying at the next poll',
    });
  }
}
