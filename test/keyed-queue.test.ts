import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../src/lib/keyed-queue.js';

describe('KeyedQueue', () => {
  it('runs at most `concurrency` tasks per key, in arrival order, and keys independently', async () => {
    const queue = new KeyedQueue(2);
    const running = new Map<string, number>();
    const peak = new Map<string, number>();
    const started: string[] = [];
    const task = (key: string, name: string) =>
      queue.run(key, async () => {
        started.push(name);
        running.set(key, (running.get(key) ?? 0) + 1);
        peak.set(key, Math.max(peak.get(key) ?? 0, running.get(key)!));
        await sleep(5);
        running.set(key, running.get(key)! - 1);
        return name;
      });
    const results = await Promise.all([
      ...['a1', 'a2', 'a3', 'a4', 'a5'].map((n) => task('a', n)),
      ...['b1', 'b2'].map((n) => task('b', n)),
    ]);
    expect(results).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'b1', 'b2']);
    expect(peak.get('a')).toBe(2);
    expect(peak.get('b')).toBe(2);
    expect(started.filter((n) => n.startsWith('a'))).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
  });

  it('passes the slot on when a task fails', async () => {
    const queue = new KeyedQueue(1);
    const failing = queue.run('k', async () => {
      throw new Error('boom');
    });
    const next = queue.run('k', async () => 'ran');
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ran');
  });
});
