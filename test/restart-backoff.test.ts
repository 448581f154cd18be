import { describe, expect, it } from 'vitest';
import { RestartBackoff } from '../src/lib/restart-backoff.js';

describe('RestartBackoff', () => {
  it('replaces a worker that ran a while at once, and backs off a crash loop up to the cap', () => {
    const backoff = new RestartBackoff({ healthyAfterMs: 10_000, firstDelayMs: 500, maxMs: 4_000 });
    expect(backoff.delayAfter(3_600_000)).toBe(0);
    expect([100, 100, 100, 100, 100].map((uptime) => backoff.delayAfter(uptime))).toEqual([500, 1_000, 2_000, 4_000, 4_000]);
    expect(backoff.delayAfter(60_000)).toBe(0); // it stayed up: the next crash starts over
    expect(backoff.delayAfter(100)).toBe(500);
  });
});
