import type { FastifyBaseLogger } from 'fastify';

/**
 * Background work in passes: one at start (catching up with whatever came due while no process ran), then one
 * every `intervalMs`, or at once again when a pass says there is more (`pass` resolves true). Passes never
 * overlap within a process; a failed pass is logged and the next one comes at the usual time. stop() waits for the
 * pass under way. The scheduler's jobs and the outbox's deliveries both run this way.
 */
export class Poller {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly options: {
      pass: () => Promise<boolean | void>;
      intervalMs: number;
      log: FastifyBaseLogger;
      /** Logged with the error of a failed pass. */
      failure: string;
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
    let more = false;
    this.running = this.options
      .pass()
      .then((again) => {
        more = again === true;
      })
      .catch((err) => this.options.log.error({ err }, this.options.failure))
      .finally(() => {
        this.running = undefined;
        if (!this.stopped) {
          this.timer = setTimeout(() => this.tick(), more ? 0 : this.options.intervalMs);
          this.timer.unref();
        }
      });
  }
}
