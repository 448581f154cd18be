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
 * instead of one each. A lone item is processed at once, as a batch of one, so nothing ever waits on a timer.
 *
 * `processBatch` decides when the batch is formed by calling `claim`: a batch that must first wait for something
 * (a row lock held by another process) claims after that wait, so whatever arrived during it joins this batch
 * instead of waiting for a whole extra turn. A batch that throws fails every item in it with that error.
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
      void this.drain(key);
    });
  }

  private async drain(key: string): Promise<void> {
    const queue = this.queues.get(key)!;
    while (queue.length > 0) {
      let batch: Waiting<I, R>[] | undefined;
      const claim = () => (batch ??= queue.splice(0, this.maxBatch)).map((w) => w.item);
      try {
        const outcomes = await this.processBatch(key, claim);
        if (!batch) throw new Error('processBatch returned without claiming its items');
        batch.forEach((waiting, i) => {
          const outcome = outcomes[i];
          if (!outcome) waiting.reject(new Error('batch returned no outcome for an item'));
          else if (outcome.ok) waiting.resolve(outcome.value);
          else waiting.reject(outcome.error);
        });
      } catch (error) {
        // Fails what the batch claimed or, if it failed before claiming, what it would have claimed.
        for (const waiting of batch ?? queue.splice(0, this.maxBatch)) waiting.reject(error);
      }
    }
    this.queues.delete(key);
  }
}
