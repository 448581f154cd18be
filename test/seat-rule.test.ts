import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decideBatch,
  freeSeats,
  isSellingOutSoon,
  joined,
  pickPromotions,
  promoted,
  released,
  type BatchEvent,
  type IncomingOrder,
  type LiveStatus,
} from '../src/modules/registrations/seat-rule.js';

// The seat rule without a database: examples, then properties over generated events and batches.

const start = new Date('2030-06-01T10:00:00Z');
const at = (second: number) => new Date(start.getTime() - 60_000 + second * 1000);
const event = (capacity: number, registeredCount = 0, overrides: Partial<BatchEvent> = {}): BatchEvent => ({
  capacity,
  registeredCount,
  isActive: true,
  cancelledAt: null,
  dateTime: start,
  ...overrides,
});
const order = (userId: string, quantity: number, second = 0): IncomingOrder => ({ userId, quantity, at: at(second) });

describe('decideBatch (examples)', () => {
  it('takes seats in arrival order, waits whole orders that do not fit, refuses a second live order per user', () => {
    const decisions = decideBatch(event(4), [order('a', 2), order('b', 3), order('c', 2), order('a', 1), order('d', 1)], new Map());
    expect(decisions).toEqual([
      { status: 'registered' },
      { status: 'waitlisted' },
      { status: 'registered' },
      { refused: 'already_registered', held: 'registered' },
      { status: 'waitlisted' },
    ]);
  });

  it('refuses users who already hold an order, saying which kind', () => {
    const holders = new Map<string, LiveStatus>([['a', 'waitlisted']]);
    expect(decideBatch(event(5), [order('a', 1)], holders)).toEqual([{ refused: 'already_registered', held: 'waitlisted' }]);
  });

  it('refuses orders arriving at or after the start, and every order for an unpublished or cancelled event', () => {
    expect(decideBatch(event(5), [order('a', 1, 59), order('b', 1, 60)], new Map())).toEqual([
      { status: 'registered' },
      { refused: 'event_started' },
    ]);
    expect(decideBatch(event(5, 0, { isActive: false }), [order('a', 1)], new Map())).toEqual([{ refused: 'event_unpublished' }]);
    const cancelled = event(5, 0, { isActive: false, cancelledAt: start });
    expect(decideBatch(cancelled, [order('a', 1), order('b', 1)], new Map())).toEqual([
      { refused: 'event_cancelled' },
      { refused: 'event_cancelled' },
    ]);
  });
});

describe('pickPromotions (examples)', () => {
  it('serves oldest first and skips an order larger than what is free so a smaller one behind it fits', () => {
    const queue = [
      { id: 'b', quantity: 3 },
      { id: 'c', quantity: 2 },
      { id: 'd', quantity: 1 },
    ];
    expect(pickPromotions(2, queue).map((o) => o.id)).toEqual(['c']);
    expect(pickPromotions(3, queue).map((o) => o.id)).toEqual(['b']);
    expect(pickPromotions(0, queue)).toEqual([]);
  });
});

describe('seats shown on an event', () => {
  it('free seats and selling out soon', () => {
    expect(freeSeats({ capacity: 10, registeredCount: 7 })).toBe(3);
    expect(isSellingOutSoon({ capacity: 10, registeredCount: 7, sellsOffSoonThreshold: 3 })).toBe(true);
    expect(isSellingOutSoon({ capacity: 10, registeredCount: 10, sellsOffSoonThreshold: 3 })).toBe(false);
    expect(isSellingOutSoon({ capacity: 10, registeredCount: 7, sellsOffSoonThreshold: 0 })).toBe(false);
  });
});

const users = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7'];
const arbOrder = fc.record({
  userId: fc.constantFrom(...users),
  quantity: fc.integer({ min: 1, max: 10 }),
  second: fc.integer({ min: 0, max: 70 }),
});
const arbBatch = fc.record({
  capacity: fc.integer({ min: 0, max: 40 }),
  taken: fc.integer({ min: 0, max: 40 }),
  isActive: fc.boolean(),
  holders: fc.dictionary(fc.constantFrom(...users), fc.constantFrom<LiveStatus>('registered', 'waitlisted'), { maxKeys: 4 }),
  orders: fc.array(arbOrder, { maxLength: 30 }),
});

/** The rule one order at a time, one "transaction" each: the reference the batch must equal. */
function oneByOne(e: BatchEvent, orders: IncomingOrder[], holders: Map<string, LiveStatus>) {
  let state = { ...e };
  const held = new Map(holders);
  return orders.map((o) => {
    const [decision] = decideBatch(state, [o], held);
    if (decision && 'status' in decision) {
      held.set(o.userId, decision.status);
      state = { ...state, registeredCount: state.registeredCount + joined([{ status: decision.status, quantity: o.quantity }]).seats };
    }
    return decision;
  });
}

describe('seat rule (properties)', () => {
  it('a batch decides exactly as one transaction per order, in arrival order', () => {
    fc.assert(
      fc.property(arbBatch, ({ capacity, taken, isActive, holders, orders }) => {
        const e = event(Math.max(capacity, taken), taken, { isActive });
        const incoming = orders.map((o) => order(o.userId, o.quantity, o.second));
        const held = new Map(Object.entries(holders));
        expect(decideBatch(e, incoming, held)).toEqual(oneByOne(e, incoming, held));
      }),
    );
  });

  it('never oversells, never gives anybody two live orders, and waitlists only orders that did not fit', () => {
    fc.assert(
      fc.property(arbBatch, ({ capacity, taken, holders, orders }) => {
        const e = event(Math.max(capacity, taken), taken);
        const incoming = orders.map((o) => order(o.userId, o.quantity, o.second));
        const decisions = decideBatch(e, incoming, new Map(Object.entries(holders)));
        const accepted = incoming.flatMap((o, i) => {
          const d = decisions[i]!;
          return 'status' in d ? [{ ...o, status: d.status }] : [];
        });
        expect(e.registeredCount + joined(accepted).seats).toBeLessThanOrEqual(e.capacity);
        const liveUsers = [...Object.keys(holders), ...accepted.map((o) => o.userId)];
        expect(new Set(liveUsers).size).toBe(liveUsers.length);
        let free = freeSeats(e);
        for (const o of accepted) {
          if (o.status === 'registered') free -= o.quantity;
          else expect(o.quantity).toBeGreaterThan(free);
        }
      }),
    );
  });

  it('promotions fit the free seats, keep the queue order, and leave no waiting order that would still fit', () => {
    fc.assert(
      fc.property(fc.integer({ min: -3, max: 30 }), fc.array(fc.integer({ min: 1, max: 10 }), { maxLength: 20 }), (free, sizes) => {
        const queue = sizes.map((quantity, id) => ({ id, quantity }));
        const chosen = pickPromotions(free, queue);
        const used = chosen.reduce((sum, o) => sum + o.quantity, 0);
        expect(used).toBeLessThanOrEqual(Math.max(free, 0));
        expect(chosen.map((o) => o.id)).toEqual([...chosen.map((o) => o.id)].sort((a, b) => a - b));
        const left = free - used;
        const skipped = queue.filter((o) => !chosen.includes(o));
        if (left > 0) for (const o of skipped) expect(o.quantity).toBeGreaterThan(left);
      }),
    );
  });

  it('counter deltas: promoting then releasing an order returns the counters to where they were', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 10 }), { maxLength: 10 }), (sizes) => {
        const orders = sizes.map((quantity) => ({ quantity, status: 'registered' as const }));
        const up = promoted(orders);
        const down = orders.map(released).reduce((a, b) => ({ seats: a.seats + b.seats, waitlisted: a.waitlisted + b.waitlisted }), {
          seats: 0,
          waitlisted: 0,
        });
        expect(up.seats + down.seats).toBe(0);
        expect(up.waitlisted).toBe(-orders.length);
        const queued = joined(orders.map((o) => ({ ...o, status: 'waitlisted' as const })));
        expect(queued).toEqual({ seats: 0, waitlisted: orders.length });
      }),
    );
  });
});
