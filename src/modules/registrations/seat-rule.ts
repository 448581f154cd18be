/**
 * Who gets a seat: the whole rule, with no database in it. The services hold the event row's lock while they apply
 * it (see ledger.repository.ts) and write what it decides; test/seat-rule.test.ts checks it with properties.
 *
 * - An order of `quantity` seats takes them all if they are all free, or else joins the waiting list whole.
 * - A user holds at most one live (registered or waitlisted) order per event.
 * - Orders arriving at or after the event's start are refused; so is every order for an unpublished or cancelled
 *   event (a cancelled one is also unpublished).
 * - Freed seats go to the waiting list oldest first; an order larger than what is free is skipped, so a smaller
 *   one behind it can use the seats.
 *
 * The waiting list's order (created_at, then id) and each order's place in it are read in SQL
 * (positionInQueue in registrations.present.ts), the one place that sees every queued order.
 */

export type LiveStatus = 'registered' | 'waitlisted';

export interface Seats {
  capacity: number;
  registeredCount: number;
}

/** Seats not taken: what `tickets_remaining` shows. */
export const freeSeats = (event: Seats): number => event.capacity - event.registeredCount;

/** An event shows "selling out soon" once its free seats are at or under its threshold (0 turns it off), not sold out. */
export function isSellingOutSoon(event: Seats & { sellsOffSoonThreshold: number }): boolean {
  const free = freeSeats(event);
  return event.sellsOffSoonThreshold > 0 && free > 0 && free <= event.sellsOffSoonThreshold;
}

/** The rule itself, for new orders and for the waiting list alike: an order takes its seats only if all are free. */
export const takesSeats = (quantity: number, free: number): boolean => quantity <= free;

export interface BatchEvent extends Seats {
  /** Published: open to registration. */
  isActive: boolean;
  cancelledAt: Date | null;
  dateTime: Date;
}

export interface IncomingOrder {
  userId: string;
  quantity: number;
  /** When the request arrived: what "the event has started" is judged by. */
  at: Date;
}

export type Refusal =
  | { refused: 'event_cancelled' }
  | { refused: 'event_unpublished' }
  | { refused: 'event_started' }
  | { refused: 'already_registered'; held: LiveStatus };

export type Decision = { status: LiveStatus } | Refusal;

/**
 * Decides a batch of orders for one event, in arrival order, exactly as one transaction per order would: each takes
 * its seats if all are still free, otherwise waits whole. `holders` are the users who already hold a live order.
 */
export function decideBatch(event: BatchEvent, orders: IncomingOrder[], holders: ReadonlyMap<string, LiveStatus>): Decision[] {
  if (!event.isActive) return orders.map(() => ({ refused: event.cancelledAt ? 'event_cancelled' : 'event_unpublished' }));
  const held = new Map(holders);
  let free = freeSeats(event);
  return orders.map((order): Decision => {
    if (event.dateTime.getTime() <= order.at.getTime()) return { refused: 'event_started' };
    const already = held.get(order.userId);
    if (already) return { refused: 'already_registered', held: already };
    const status: LiveStatus = takesSeats(order.quantity, free) ? 'registered' : 'waitlisted';
    if (status === 'registered') free -= order.quantity;
    held.set(order.userId, status);
    return { status };
  });
}

/** The waiting orders that the free seats serve, from `queue` in the waiting list's order (oldest first). */
export function pickPromotions<T extends { quantity: number }>(free: number, queue: T[]): T[] {
  const promoted: T[] = [];
  for (const order of queue) {
    if (free <= 0) break;
    if (!takesSeats(order.quantity, free)) continue;
    free -= order.quantity;
    promoted.push(order);
  }
  return promoted;
}

/** How an event's `registered_count` (seats) and `waitlist_count` (orders) move. */
export interface CounterDelta {
  seats: number;
  waitlisted: number;
}

/** New orders joining: their seats if registered, one queue place each if waitlisted. */
export const joined = (orders: { status: LiveStatus; quantity: number }[]): CounterDelta => ({
  seats: orders.reduce((sum, o) => sum + (o.status === 'registered' ? o.quantity : 0), 0),
  waitlisted: orders.filter((o) => o.status === 'waitlisted').length,
});

/** Waiting orders promoted: they take their seats and leave the queue. */
export const promoted = (orders: { quantity: number }[]): CounterDelta => ({
  seats: orders.reduce((sum, o) => sum + o.quantity, 0),
  waitlisted: -orders.length,
});

/** A live order cancelled: its seats or its queue place return. */
export const released = (order: { status: LiveStatus; quantity: number }): CounterDelta =>
  order.status === 'registered' ? { seats: -order.quantity, waitlisted: 0 } : { seats: 0, waitlisted: -1 };
