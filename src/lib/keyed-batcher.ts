/** What one item of a batch came to: its value, or the error its caller should see. */
export type BatchOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

interface Waiting<I, R> {
  item: I;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Takes the items of a batch from its key's queue: everything waiting at the moment of the first call (up to
 * maxBatch), in arrival order. Later calls return the same items, so a batch that runs again gets the same ones.
 */
export type ClaimItems<I> = () => I[];

/**
 * Group commit, within this process: items for the same key that arrive while a batch for that key is running are
 * handled together by the next batch, one call to `processBatch` (one transaction, one row lock, one commit)
 * instead of one each. The first batch of a key starts at the end of the event loop's current turn (setImmediate,
 * not a timer), so the items that arrive in the same turn join it: with PGlite, whose queries finish without
 * leaving the turn, starting at once processed each request alone before the next socket was even read (issue 18:
 * the embedded drop made 275 orders/s, one transaction each). A lone item still starts without waiting.
 *
 * `processBatch` decides when the batch is formed by calling `claim`: a batch that must first wait for something
 * (a row lock held by another process) claims after that wait, so whatever arrived during it joins this batch
 * instead of waiting for a whole extra turn.
 *
 * Nothing one caller sends may fail another caller's request: a batch of several items that throws (rolled back
 * as a whole) is split, and each of its items is processed again alone, so an error reaches only the item that
 * causes it. A batch of one that throws fails its item with that error.
 */
export class KeyedBatcher<I, R> {
  private readonly queues = new Map<string, Waiting<I, R>[]>();

  constructor(
    private readonly processBatch: (key: string, claim: ClaimItems<I>) => Promise<BatchOutcome<R>[]>,
    private readonly maxBatch = 64,
  ) {}

  run(key: string, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const queue = this.queues.get(key);
      if (queue) {
        queue.push({ item, resolve, reject });
        return;
      }
      this.queues.set(key, [{ item, resolve, reject }]);
      setImmediate(() => void this.drain(key));
    });
  }

  private async drain(key: string): Promise<void> {
    const queue = this.queues.get(key)!;
    while (queue.length > 0) {
      let batch: Waiting<I, R>[] | undefined;
      const claim = () => (batch ??= queue.splice(0, this.maxBatch)).map((w) => w.item);
      try {
        const outcomes = await this.processBatch(key, claim);
        this.settle(batch, outcomes);
      } catch (error) {
        // What the batch claimed or, if it failed before claiming, what it would have claimed.
        const failed = batch ?? queue.splice(0, this.maxBatch);
        if (failed.length === 1) failed[0]!.reject(error);
        else for (const waiting of failed) await this.runAlone(key, waiting);
      }
    }
    this.queues.delete(key);
  }

  private async runAlone(key: string, waiting: Waiting<I, R>): Promise<void> {
    let batch: Waiting<I, R>[] | undefined;
    try {
      const outcomes = await this.processBatch(key, () => (batch ??= [waiting]).map((w) => w.item));
      this.settle(batch, outcomes);
    } catch (error) {
      waiting.reject(error);
    }
  }

  private settle(batch: Waiting<I, R>[] | undefined, outcomes: BatchOutcome<R>[]): void {
    if (!batch) throw new Error('processBatch returned without claiming its items');
    batch.forEach((waiting, i) => {
      const outcome = outcomes[i];
      if (!outcome) waiting.reject(new Error('batch returned no outcome for an item'));
      else if (outcome.ok) waiting.resolve(outcome.value);
      else waiting.reject(outcome.error);
    });
  }
}
