import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { deliverDue, type OutboxChannel } from './outbox.service.js';

/**
 * Delivers the outbox in the background: a pass at start (whatever queued while no process ran), then one every
 * `intervalMs`, and at once again after a pass that found a full load. Passes never overlap within a process;
 * every process may run one (claims never collide). Delivery failures never reach a request: they are recorded on
 * the message and retried.
 */
export class OutboxWorker {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly options: {
      db: Db;
      clock: Clock;
      channels: OutboxChannel[];
      intervalMs: number;
      log: FastifyBaseLogger;
      /** Messages per pass. */
      batch?: number;
    },
  ) {}

  start(): void {
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private tick(): void {
    if (this.stopped) return;
    const batch = this.options.batch ?? 100;
    let busy = false;
    this.running = deliverDue(this.options.db, this.options.channels, this.options.clock.now(), batch)
      .then((result) => {
        const handled = result.sent + result.retried + result.failed + result.dropped + result.lost;
        busy = handled >= batch;
        if (result.retried || result.failed || result.lost) this.options.log.warn({ outbox: result }, 'outbox delivery had failures');
        else if (handled) this.options.log.debug({ outbox: result }, 'outbox delivered');
      })
      .catch((err) => this.options.log.error({ err }, 'outbox pass failed; retrying at the next poll'))
      .finally(() => {
        this.running = undefined;
        if (!this.stopped) {
          this.timer = setTimeout(() => this.tick(), busy ? 0 : this.options.intervalMs);
          this.timer.unref();
        }
      });
  }
}
