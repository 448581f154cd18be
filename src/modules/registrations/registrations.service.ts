import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/client.js';
import type { RegistrationStatus } from '../../db/schema.js';
import { ApiError, ValidationError, badRequest, conflict, forbidden, notFound } from '../../lib/errors.js';
import { KeyedBatcher, type BatchOutcome, type ClaimItems } from '../../lib/keyed-batcher.js';
import type { AuthUser } from '../../plugins/auth.js';
import { notify, notifyAlongside, notifyEventCancelled } from '../notifications/notifications.service.js';
import * as repo from './registrations.repository.js';
import type { EventRow, RegistrationRow, RegistrationView, TicketLookup, TicketRow } from './registrations.repository.js';
import { ticketCode } from './ticket-codes.js';
import { checkedInItem, listeningEndpoints, queueWebhooks, queueWebhooksTo, registrationItem } from '../webhooks/webhooks.service.js';

export type { RegistrationView, TicketLookup, TicketRow } from './registrations.repository.js';

export interface RegistrationWithTickets extends RegistrationView {
  tickets: TicketRow[];
}

const CODE_ATTEMPTS = 5;

/** A seat that needs a ticket. */
interface PendingSeat {
  registrationId: string;
  eventId: string;
  seat: number;
  createdAt: Date;
}

/** One per seat of each order, created at `now` (default: when its order was). */
const seatsOf = (orders: RegistrationRow[], now?: Date): PendingSeat[] =>
  orders.flatMap((order) =>
    Array.from({ length: order.quantity }, (_, i) => ({
      registrationId: order.id,
      eventId: order.eventId,
      seat: i + 1,
      createdAt: now ?? order.createdAt,
    })),
  );

/** Issues a ticket for each seat; a code that collides with an existing one is drawn again. */
async function issueTickets(tx: Db, pending: PendingSeat[]): Promise<TicketRow[]> {
  const issued: TicketRow[] = [];
  let seats = pending;
  for (let attempt = 0; attempt < CODE_ATTEMPTS && seats.length > 0; attempt++) {
    const rows = await repo.insertTicketsSkippingTakenCodes(
      tx,
      seats.map((seat) => ({ ...seat, code: ticketCode(seat.seat) })),
    );
    issued.push(...rows);
    const done = new Set(rows.map((r) => `${r.registrationId}:${r.seat}`));
    seats = seats.filter((seat) => !done.has(`${seat.registrationId}:${seat.seat}`));
  }
  if (seats.length > 0) throw new Error('Could not draw a free ticket code; the random source is broken.');
  return issued.sort((a, b) => a.seat - b.seat);
}

/** The tickets a batch writes in its one statement: ids and codes drawn here, so the statement needs no reply first. */
function batchTickets(orders: RegistrationRow[]): TicketRow[] {
  return seatsOf(orders).map((seat) => ({ ...seat, id: randomUUID(), code: ticketCode(seat.seat), isUsed: false, usedAt: null }));
}

const canManageEvent = (actor: AuthUser, event: { organizerId: string }) => actor.isStaff || event.organizerId === actor.id;

const canSeeRegistration = (actor: AuthUser, reg: RegistrationView) =>
  reg.userId === actor.id || actor.isStaff || reg.eventOrganizerId === actor.id;

async function withTickets(db: Db, rows: RegistrationView[]): Promise<RegistrationWithTickets[]> {
  const tickets = await repo.listTicketsOf(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((r) => ({ ...r, tickets: tickets.filter((t) => t.registrationId === r.id) }));
}

async function loadWithTickets(db: Db, id: string): Promise<RegistrationWithTickets> {
  const view = await repo.findRegistrationView(db, id);
  if (!view) throw notFound();
  const [full] = await withTickets(db, [view]);
  return full!;
}

const messages = {
  registered: (title: string) => `You have successfully registered for ${title}.`,
  waitlisted: (title: string) => `${title} is full. You have been added to the waiting list.`,
  promoted: (title: string) => `A place opened up: you are now registered for ${title}.`,
  cancelledByOwner: (title: string) => `Your registration for ${title} has been cancelled.`,
  cancelledByOrganizer: (title: string) => `Your registration for ${title} has been cancelled by the organizer.`,
};

export interface Order {
  user: AuthUser;
  quantity: number;
  /** When the request arrived: its registration's created_at, and what "the event has started" is judged by. */
  now: Date;
}

/**
 * Registers `user` for `quantity` seats. All seats are taken if they are all free; otherwise the whole order joins
 * the waiting list, without tickets. Concurrent orders for one event are group-committed (see registerOrders).
 */
export async function register(
  db: Db,
  user: AuthUser,
  input: { eventId: string; quantity: number },
  now: Date,
): Promise<RegistrationWithTickets> {
  return batcherFor(db).run(input.eventId, { user, quantity: input.quantity, now });
}

/** One batcher per database: tests run several apps, each on its own database, in one process. */
const batchers = new WeakMap<Db, KeyedBatcher<Order, RegistrationWithTickets>>();
function batcherFor(db: Db): KeyedBatcher<Order, RegistrationWithTickets> {
  let batcher = batchers.get(db);
  if (!batcher) {
    batcher = new KeyedBatcher(async (eventId, claim) => {
      for (let attempt = 1; ; attempt++) {
        try {
          // The first try forms its batch once it holds the lock, and supposes nobody in it already holds an
          // order (a retry reads who does): see registerOrders.
          return await db.transaction((tx) => registerOrders(tx, eventId, claim, { readHolders: attempt > 1 }));
        } catch (error) {
          // Rolled back; the next try reads the holders afresh, and nothing changed in between is missed then.
          if (!(error instanceof StaleHolders) || attempt >= 4) throw error;
        }
      }
    });
    batchers.set(db, batcher);
  }
  return batcher;
}

/**
 * The seat rule, for a batch of orders on one event, in arrival order, inside one transaction that locks the
 * event row first (so batches from every process queue on that lock and never oversell). Each order in turn takes
 * its seats if all of them are still free, or else joins the waiting list whole, exactly as if the orders had come
 * one transaction each; a user may hold one live registration per event. Under a rush this turns hundreds of
 * commits into a few: the orders that arrive while one batch holds the lock form the next batch.
 *
 * `readHolders` reads, with the lock, which of the batch's users already hold an order, so the batch is known
 * before it locks. Without it the batch is claimed only once the lock is held (orders that arrived during the
 * wait join it), supposing nobody in it holds an order yet: if somebody does, the insert skips that order and
 * this throws StaleHolders, and the caller runs the batch again with `readHolders`. Under the lock: the lock, one
 * statement that writes the orders, tickets and notifications, and the commit.
 */
export async function registerOrders(
  tx: Db,
  eventId: string,
  claim: Order[] | ClaimItems<Order>,
  { readHolders }: { readHolders: boolean } = { readHolders: true },
): Promise<BatchOutcome<RegistrationWithTickets>[]> {
  const claimOrders = Array.isArray(claim) ? () => claim : claim;
  // Read before the lock, so the lock is not held for it (an endpoint added meanwhile hears from the next change).
  const endpoints = await listeningEndpoints(tx, eventId);
  let orders: Order[];
  let locked: { event: EventRow; holders: Map<string, RegistrationStatus> } | undefined;
  if (readHolders) {
    orders = claimOrders();
    locked = await repo.lockEventWithHolders(
      tx,
      eventId,
      orders.map((o) => o.user.id),
    );
  } else {
    const event = await repo.lockEvent(tx, eventId);
    orders = claimOrders();
    locked = event && { event, holders: new Map() };
  }
  if (!locked) {
    const error = ValidationError.field('event', `Invalid pk "${eventId}" - object does not exist.`);
    return orders.map(() => ({ ok: false, error }));
  }
  const { event, holders: liveStatus } = locked;
  if (!event.isActive) {
    const error = event.cancelledAt
      ? badRequest('This event has been cancelled; registration is closed.', 'event_inactive')
      : badRequest('This event is not published; registration is closed.', 'event_inactive');
    return orders.map(() => ({ ok: false, error }));
  }
  const outcomes: BatchOutcome<RegistrationWithTickets>[] = [];
  const accepted: Array<{ index: number; order: Order; row: RegistrationRow & { status: 'registered' | 'waitlisted' } }> = [];
  let free = event.capacity - event.registeredCount;
  orders.forEach((order, index) => {
    const held = liveStatus.get(order.user.id);
    if (event.dateTime.getTime() <= order.now.getTime()) {
      outcomes[index] = { ok: false, error: badRequest('This event has already started; registration is closed.', 'event_started') };
    } else if (held) {
      outcomes[index] = { ok: false, error: alreadyRegistered(held) };
    } else {
      const status = order.quantity <= free ? 'registered' : 'waitlisted';
      if (status === 'registered') free -= order.quantity;
      liveStatus.set(order.user.id, status);
      const row = {
        id: randomUUID(),
        userId: order.user.id,
        eventId,
        quantity: order.quantity,
        status,
        createdAt: order.now,
        updatedAt: order.now,
        cancelledAt: null,
      } as const;
      accepted.push({ index, order, row });
    }
  });
  if (accepted.length === 0) return outcomes;
  const planned = batchTickets(accepted.map((a) => a.row).filter((row) => row.status === 'registered'));
  const { inserted, issued } = await repo.insertDecidedOrders(
    tx,
    eventId,
    accepted.map((a) => a.row),
    planned,
    notifyAlongside(
      accepted.map(({ row }) => ({
        userId: row.userId,
        eventId,
        kind: row.status,
        message: messages[row.status](event.title),
        createdAt: row.createdAt,
      })),
    ),
  );
  if (inserted.size < accepted.length) throw new StaleHolders();
  const tickets = [
    ...planned.filter((t) => issued.has(t.id)),
    // A ticket whose code was already taken (about one in 2^60) gets a code drawn again.
    ...(await issueTickets(
      tx,
      planned.filter((t) => !issued.has(t.id)),
    )),
  ];
  if (endpoints.length > 0) {
    const latest = new Date(Math.max(...accepted.map((a) => a.row.createdAt.getTime())));
    await queueWebhooksTo(
      tx,
      endpoints,
      accepted.map(({ row }) =>
        registrationItem(
          row.status === 'registered' ? 'registration.created' : 'registration.waitlisted',
          event,
          row,
          tickets
            .filter((t) => t.registrationId === row.id)
            .sort((a, b) => a.seat - b.seat)
            .map((t) => t.code),
        ),
      ),
      latest,
    );
  }
  // The statement could not see the orders it queued itself: count those ahead of each one, in the queue's order.
  const queuedNow = accepted.map((a) => a.row).filter((r) => r.status === 'waitlisted');
  const ahead = (row: RegistrationRow) => queuedNow.filter((other) => queueOrder(other, row) < 0).length;
  for (const { index, order, row } of accepted) {
    const queuedBefore = inserted.get(row.id) ?? null;
    outcomes[index] = {
      ok: true,
      value: {
        ...row,
        waitlistPosition: queuedBefore === null ? null : queuedBefore + ahead(row),
        eventTitle: event.title,
        eventDateTime: event.dateTime,
        eventOrganizerId: event.organizerId,
        username: order.user.username,
        tickets: tickets.filter((t) => t.registrationId === row.id).sort((a, b) => a.seat - b.seat),
      },
    };
  }
  return outcomes;
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

/** The waiting list's order: created_at, then id (as PostgreSQL compares uuids: their lowercase hex text). */
const queueOrder = (a: RegistrationRow, b: RegistrationRow) =>
  a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function alreadyRegistered(status: RegistrationStatus): ApiError {
  return status === 'waitlisted'
    ? badRequest('You are already on the waiting list for this event.', 'already_registered')
    : badRequest('You are already registered for this event.', 'already_registered');
}

/**
 * Fills free seats from the waiting list, oldest order first; an order larger than the free seats is skipped so a
 * smaller one behind it can use them. Runs inside the caller's transaction (a cancellation, a capacity increase)
 * and locks the event row itself (a no-op when the caller already holds it). Returns the promoted orders.
 */
export async function promoteWaitlist(tx: Db, eventId: string, now: Date): Promise<RegistrationRow[]> {
  const event = await repo.lockEvent(tx, eventId);
  if (!event || event.cancelledAt) return [];
  let free = event.capacity - event.registeredCount;
  if (free <= 0 || event.waitlistCount === 0) return [];
  const promoted: RegistrationRow[] = [];
  for (const order of await repo.listWaitlisted(tx, eventId)) {
    if (free <= 0) break;
    if (order.quantity > free) continue;
    free -= order.quantity;
    promoted.push(order);
  }
  if (promoted.length === 0) return [];
  const rows = await repo.setRegistrationStatus(
    tx,
    promoted.map((r) => r.id),
    'registered',
    now,
  );
  const tickets = await issueTickets(tx, seatsOf(rows, now));
  await repo.adjustEventCounts(
    tx,
    eventId,
    rows.reduce((sum, r) => sum + r.quantity, 0),
    -rows.length,
    now,
  );
  await notify(
    tx,
    rows.map((r) => ({ userId: r.userId, eventId, kind: 'promoted' as const, message: messages.promoted(event.title) })),
    now,
  );
  await queueWebhooks(
    tx,
    eventId,
    rows.map((r) =>
      registrationItem(
        'registration.promoted',
        event,
        r,
        tickets.filter((t) => t.registrationId === r.id).map((t) => t.code),
      ),
    ),
    now,
  );
  return rows;
}

/**
 * Cancels a registration for its owner, or for the event's organizer or staff. Its tickets stop being valid, its
 * seats return to the event and the waiting list is promoted, all in one transaction.
 */
export async function cancelRegistration(db: Db, actor: AuthUser, registrationId: string, now: Date): Promise<RegistrationWithTickets> {
  const visible = await repo.findRegistrationView(db, registrationId);
  if (!visible || !canSeeRegistration(actor, visible)) throw notFound();
  return db.transaction(async (tx) => {
    const event = (await repo.lockEvent(tx, visible.eventId))!;
    // Read again under the lock: a concurrent cancel may have won.
    const registration = (await repo.findRegistration(tx, registrationId))!;
    if (registration.status === 'cancelled') {
      throw badRequest('This registration is already cancelled.', 'already_cancelled');
    }
    if (event.dateTime.getTime() <= now.getTime()) {
      throw badRequest('The event has already started; the registration can no longer be cancelled.', 'event_started');
    }
    await repo.setRegistrationStatus(tx, [registration.id], 'cancelled', now);
    const wasRegistered = registration.status === 'registered';
    await repo.adjustEventCounts(tx, event.id, wasRegistered ? -registration.quantity : 0, wasRegistered ? 0 : -1, now);
    const message = actor.id === registration.userId ? messages.cancelledByOwner : messages.cancelledByOrganizer;
    await notify(
      tx,
      { userId: registration.userId, eventId: event.id, kind: 'registration_cancelled', message: message(event.title) },
      now,
    );
    // Before the promotions it makes room for, so an endpoint hears of them in that order.
    const cancelledTickets = await repo.listTicketsOf(tx, [registration.id]);
    await queueWebhooks(
      tx,
      event.id,
      [
        registrationItem(
          'registration.cancelled',
          event,
          { ...registration, status: 'cancelled' },
          cancelledTickets.map((t) => t.code),
        ),
      ],
      now,
    );
    if (wasRegistered) await promoteWaitlist(tx, event.id, now);
    return loadWithTickets(tx, registrationId);
  });
}

/**
 * For an event the organizer cancels: every live registration is cancelled, the seats and the waiting list are
 * emptied and each registrant is told. Runs in the caller's transaction; deactivating the event is the caller's job.
 * Returns the number of registrations cancelled.
 */
export async function cancelAllForEvent(tx: Db, eventId: string, now: Date): Promise<number> {
  const event = await repo.lockEvent(tx, eventId);
  if (!event) return 0;
  // Before the registrations change: the notifications module tells whoever is still registered or waitlisted.
  await notifyEventCancelled(tx, event, now);
  const live = await repo.listLiveRegistrations(tx, eventId);
  await repo.setRegistrationStatus(
    tx,
    live.map((r) => r.id),
    'cancelled',
    now,
  );
  await repo.adjustEventCounts(tx, eventId, -event.registeredCount, -event.waitlistCount, now);
  return live.length;
}

export async function getRegistration(db: Db, actor: AuthUser, id: string): Promise<RegistrationWithTickets> {
  const view = await repo.findRegistrationView(db, id);
  if (!view || !canSeeRegistration(actor, view)) throw notFound();
  const [full] = await withTickets(db, [view]);
  return full!;
}

/** A page of the caller's own registrations, as the total and the results already written as JSON text. */
export async function listMine(
  db: Db,
  user: AuthUser,
  query: { status?: RegistrationStatus; upcoming?: boolean },
  page: { limit: number; offset: number },
  now: Date,
): Promise<{ total: number; resultsJson: string }> {
  return repo.listMineJson(db, { userId: user.id, status: query.status, eventsFrom: query.upcoming ? now : undefined }, page);
}

/** The registrations of one event for its organizer or staff, a page at a time: oldest first, as a door list reads. */
export async function listForEvent(
  db: Db,
  actor: AuthUser,
  eventId: string,
  query: { status?: RegistrationStatus },
  page: { limit: number; offset: number },
): Promise<{ rows: RegistrationWithTickets[]; total: number }> {
  await assertCanManageRegistrations(db, actor, eventId);
  const { rows, total } = await repo.listRegistrationViews(db, { eventId, status: query.status }, { ...page, oldestFirst: true });
  return { rows: await withTickets(db, rows), total };
}

/**
 * Every registration of one event (the CSV door list), read `pageSize` at a time as the caller consumes them. The
 * permission check happens before this returns, so a refusal is still an ordinary error response.
 */
export async function exportForEvent(
  db: Db,
  actor: AuthUser,
  eventId: string,
  query: { status?: RegistrationStatus },
  pageSize = 1_000,
): Promise<AsyncGenerator<RegistrationWithTickets[]>> {
  await assertCanManageRegistrations(db, actor, eventId);
  return (async function* pages() {
    for (let offset = 0; ; offset += pageSize) {
      const { rows } = await repo.listRegistrationViews(
        db,
        { eventId, status: query.status },
        { limit: pageSize, offset, oldestFirst: true },
      );
      yield await withTickets(db, rows);
      if (rows.length < pageSize) return;
    }
  })();
}

async function assertCanManageRegistrations(db: Db, actor: AuthUser, eventId: string): Promise<void> {
  const event = await repo.findEvent(db, eventId);
  if (!event || (!event.isActive && !canManageEvent(actor, event))) throw notFound();
  if (!canManageEvent(actor, event)) throw forbidden('Only the event organizer or staff can see its registrations.');
}

export type TicketState = 'valid' | 'used' | 'cancelled';

export const ticketState = (lookup: TicketLookup): TicketState =>
  lookup.registration.status === 'cancelled' ? 'cancelled' : lookup.ticket.isUsed ? 'used' : 'valid';

/** A ticket for its holder, the event's organizer or staff; anyone else (and an unknown code) gets 404. */
export async function getTicket(db: Db, actor: AuthUser, code: string): Promise<TicketLookup> {
  const lookup = await repo.findTicketByCode(db, code.toUpperCase());
  if (!lookup || (lookup.registration.userId !== actor.id && !canManageEvent(actor, lookup.event))) {
    throw notFound('Ticket not found.');
  }
  return lookup;
}

/**
 * Scans a ticket at the door for the event's organizer or staff. Exactly one of two simultaneous scans succeeds:
 * the event row is locked first, as for every change to an event's seats, and the update only flips an unused
 * ticket.
 */
export async function checkIn(db: Db, actor: AuthUser, code: string, now: Date): Promise<TicketLookup> {
  if (!actor.isOrganizer && !actor.isStaff) throw forbidden('Only organizers and staff can check tickets in.');
  const found = await repo.findTicketByCode(db, code.toUpperCase());
  // Another organizer's ticket is answered like an unknown code, so codes cannot be probed.
  if (!found || !canManageEvent(actor, found.event)) throw notFound('Ticket not found.');
  return db.transaction(async (tx) => {
    await repo.lockEvent(tx, found.event.id);
    const current = (await repo.findTicketByCode(tx, found.ticket.code))!;
    if (current.registration.status === 'cancelled') {
      throw conflict('This ticket belongs to a cancelled registration.', 'registration_cancelled');
    }
    const used = await repo.markTicketUsed(tx, current.ticket.id, now);
    if (!used) {
      throw conflict('This ticket has already been checked in.', 'already_checked_in', {
        used_at: current.ticket.usedAt?.toISOString() ?? null,
      });
    }
    await queueWebhooks(tx, current.event.id, [checkedInItem(current.event, used, current.registration)], now);
    return { ...current, ticket: used };
  });
}

export type { EventRow };
