import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { KeyedBatcher, type BatchOutcome } from '../src/lib/keyed-batcher.js';

describe('KeyedBatcher', () => {
  it('processes the items of one turn of the event loop together, then everything that arrived meanwhile as one batch, per key, in order', async () => {
    const batches: string[][] = [];
    const batcher = new KeyedBatcher<string, string>(async (key, claim) => {
      const items = claim();
      batches.push(items.map((i) => `${key}:${i}`));
      await sleep(10);
      return items.map((i) => ({ ok: true, value: i.toUpperCase() }));
    });
    // Sent in one turn: one batch per key. a3 comes a turn later, while a's batch runs: the next batch.
    const first = ['a1', 'a2'].map((i) => batcher.run('a', i));
    const other = batcher.run('b', 'b1');
    await new Promise((resolve) => setImmediate(resolve));
    const later = ['a3', 'a4'].map((i) => batcher.run('a', i));
    expect(await Promise.all([...first, other, ...later])).toEqual(['A1', 'A2', 'B1', 'A3', 'A4']);
    expect(batches).toEqual([['a:a1', 'a:a2'], ['b:b1'], ['a:a3', 'a:a4']]);
  });

  it('never puts more than maxBatch items in one batch', async () => {
    const sizes: number[] = [];
    const batcher = new KeyedBatcher<number, number>(async (_key, claim) => {
      const items = claim();
      sizes.push(items.length);
      await sleep(2);
      return items.map((value) => ({ ok: true, value }));
    }, 3);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => batcher.run('k', i)));
    expect(results).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(sizes).toEqual([3, 3, 2]);
  });

  it('fails only the items whose outcome is an error; a batch that throws is retried item by item; later batches still run', async () => {
    let call = 0;
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const sizes: number[] = [];
    const batcher = new KeyedBatcher<number, number>(async (_key, claim): Promise<BatchOutcome<number>[]> => {
      const items = claim();
      sizes.push(items.length);
      call++;
      if (call === 1) await gate; // holds the first batch until the next items are queued
      if (items.includes(3)) throw new Error('3 breaks its whole batch');
      return items.map((n) => (n % 2 ? { ok: false, error: new Error(`odd ${n}`) } : { ok: true, value: n }));
    });
    const run = (n: number) => batcher.run('k', n).then(String, (e: Error) => e.message);
    const outcomes = [run(1)];
    await new Promise((resolve) => setImmediate(resolve)); // 1's batch has started, and waits at the gate
    outcomes.push(...[2, 3, 4].map(run));
    openGate();
    // 2, 3 and 4 formed one batch, which 3 broke: 2 and 4 are unaffected by it.
    expect(await Promise.all(outcomes)).toEqual(['odd 1', '2', '3 breaks its whole batch', '4']);
    expect(sizes).toEqual([1, 3, 1, 1, 1]);
    await expect(batcher.run('k', 6)).resolves.toBe(6);
    await expect(batcher.run('k', 5)).rejects.toThrow('odd 5');
  });

  it('forms a batch when it claims: what arrives while the batch waits (for a lock) before claiming joins it', async () => {
    const batches: number[][] = [];
    const calls: number[] = [];
    let openLock!: () => void;
    const lock = new Promise<void>((resolve) => (openLock = resolve));
    const batcher = new KeyedBatcher<number, number>(async (_key, claim) => {
      calls.push(calls.length);
      if (calls.length === 1) await lock; // the first batch waits before it claims
      const items = claim();
      expect(claim()).toEqual(items); // a second claim (a retry) gets the same items
      batches.push(items);
      return items.map((value) => ({ ok: true, value }));
    });
    const first = batcher.run('k', 1);
    await sleep(5);
    const later = [2, 3].map((n) => batcher.run('k', n)); // arrive during the wait
    await sleep(5);
    openLock();
    expect(await Promise.all([first, ...later])).toEqual([1, 2, 3]);
    expect(batches).toEqual([[1, 2, 3]]);
    expect(calls).toHaveLength(1);
  });

  it('fails the waiting items when a batch throws before it claims, or returns without claiming', async () => {
    let call = 0;
    const batcher = new KeyedBatcher<number, number>(async (_key, claim) => {
      call++;
      await sleep(1);
      if (call === 1) throw new Error('cannot connect');
      if (call === 2) return [];
      return claim().map((value) => ({ ok: true, value }));
    });
    await expect(batcher.run('k', 1)).rejects.toThrow('cannot connect');
    await expect(batcher.run('k', 2)).rejects.toThrow('without claiming');
    await expect(batcher.run('k', 3)).resolves.toBe(3);
  });
});
