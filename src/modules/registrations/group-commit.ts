import type { Db } from '../../db/client.js';
import { KeyedBatcher, type BatchOutcome, type ClaimItems } from '../../lib/keyed-batcher.js';
import { lockEvent, lockEventWithHolders, type EventRow } from './ledger.repository.js';
import type { LiveStatus } from './seat-rule.js';

/**
 * The protocol that lets a rush of registrations for one event cost a handful of commits instead of one each:
 *
 * 1. Group commit (lib/keyed-batcher.ts): orders for one event that arrive while a batch for it runs in this process
 *    form the next batch, decided together in one transaction under one lock of the event row.
 * 2. Claim after lock: a batch's first try locks the event row, and only then claims its orders, so the ones that
 *    arrived while it waited for the lock join it. It supposes that nobody in it already holds an order for the
 *    event (reading who does would need the batch before the lock).
 * 3. Stale holders: if somebody does (the insert's unique index skips that order), the batch throws StaleHolders,
 *    is rolled back and runs again, this time reading the holders together with the lock (same orders).
 *
 * `decide` is the batch itself (registerOrders in registrations.service.ts): the seat rule and the writes.
 */

/** The event row, locked, and the users of the batch who already hold a live order (empty when not read). */
export interface LockedEvent {
  event: EventRow;
  holders: Map<string, LiveStatus>;
}

/**
 * A user's order from another process committed while the batch waited for the event lock, so the holders read
 * with the lock (see lockEventWithHolders) missed it and the unique index skipped the new one. The seats handed
 * out assumed it would be inserted, so the batch is rolled back and run again rather than leave them unsold.
 */
export class StaleHolders extends Error {
  constructor() {
    super('A live registration appeared while the batch waited for the event lock; run the batch again.');
  }
}

const MAX_TRIES = 4;

/**
 * Locks the event row and claims the batch: after the lock without reading holders, or (`readHolders`) before it,
 * reading which of the batch's users already hold a live order in the same round trip. `locked` is undefined for
 * an unknown event.
 */
export async function lockAndClaim<O extends { user: { id: string } }>(
  tx: Db,
  eventId: string,
  claim: ClaimItems<O>,
  readHolders: boolean,
): Promise<{ orders: O[]; locked: LockedEvent | undefined }> {
  if (readHolders) {
    const orders = claim();
    const locked = await lockEventWithHolders(
      tx,
      eventId,
      orders.map((o) => o.user.id),
    );
    return { orders, locked };
  }
  const event = await lockEvent(tx, eventId);
  return { orders: claim(), locked: event && { event, holders: new Map() } };
}

export type DecideBatch<O, R> = (
  tx: Db,
  eventId: string,
  claim: ClaimItems<O>,
  options: { readHolders: boolean },
) => Promise<BatchOutcome<R>[]>;

/**
 * One batcher per database (tests run several apps, each on its own database, in one process), each running
 * `decide` in its own transaction, retried with the holders read when it throws StaleHolders.
 */
export function groupCommit<O, R>(decide: DecideBatch<O, R>): (db: Db) => KeyedBatcher<O, R> {
  const batchers = new WeakMap<Db, KeyedBatcher<O, R>>();
  return (db) => {
    let batcher = batchers.get(db);
    if (!batcher) {
      batcher = new KeyedBatcher(async (eventId, claim) => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await db.transaction((tx) => decide(tx, eventId, claim, { readHolders: attempt > 1 }));
          } catch (error) {
            // Rolled back; the next try reads the holders afresh, and nothing changed in between is missed then.
            if (!(error instanceof StaleHolders) || attempt >= MAX_TRIES) throw error;
          }
        }
      });
      batchers.set(db, batcher);
    }
    return batcher;
  };
}
