/**
 * When to start a replacement for a worker process that exited on its own. A worker that ran a while (a crash in
 * service, an out-of-memory kill) is replaced at once; one that dies soon after starting (a bad deploy, a database
 * that refuses connections) is replaced after a delay that doubles each time, up to `maxMs`, so a crash loop does
 * not burn the CPU and flood the logs. A worker that stays up resets the delay.
 */
export class RestartBackoff {
  private delayMs = 0;

  constructor(
    private readonly options: { healthyAfterMs: number; firstDelayMs: number; maxMs: number } = {
      healthyAfterMs: 10_000,
      firstDelayMs: 500,
      maxMs: 30_000,
    },
  ) {}

  /** Milliseconds to wait before starting the replacement of a worker that ran for `uptimeMs`. */
  delayAfter(uptimeMs: number): number {
    const { healthyAfterMs, firstDelayMs, maxMs } = this.options;
    this.delayMs = uptimeMs >= healthyAfterMs ? 0 : Math.min(maxMs, this.delayMs === 0 ? firstDelayMs : this.delayMs * 2);
    return this.delayMs;
  }
}
