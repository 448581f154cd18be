/**
 * Runs tasks for the same key at most `concurrency` at a time, in arrival order, within this process.
 * Correctness never depends on it (the database lock does that, across processes); it keeps a rush on one key
 * from parking every pooled connection on that key's row lock, which would stall unrelated requests too.
 */
export class KeyedQueue {
  private readonly queues = new Map<string, { running: number; waiting: (() => void)[] }>();

  constructor(private readonly concurrency = 1) {}

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    let queue = this.queues.get(key);
    if (!queue) this.queues.set(key, (queue = { running: 0, waiting: [] }));
    if (queue.running >= this.concurrency) await new Promise<void>((resolve) => queue!.waiting.push(resolve));
    else queue.running++;
    try {
      return await task();
    } finally {
      const next = queue.waiting.shift();
      if (next) next(); // the slot passes straight to the next task
      else if (--queue.running === 0) this.queues.delete(key);
    }
  }
}
