import type { PageJson } from '../../db/row-version-cache.js';
import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/client.js';
import type { RegistrationStatus } from '../../db/schema.js';
import { canManageEvent, canReadEvent, canReadRegistration } from '../../lib/access.js';
import { ApiError, ValidationError, badRequest, forbidden, notFound } from '../../lib/errors.js';
import type { BatchOutcome, ClaimItems } from '../../lib/keyed-batcher.js';
import type { AuthUser } from '../../plugins/auth.js';
import { writeInOneStatement } from '../../db/one-statement.js';
import { notificationsWrite, notifyEventCancelled, writeNotifications } from '../notifications/notifications.service.js';
import { issueTickets, issueTicketsFor, planTickets, ticketsOf } from '../tickets/tickets.service.js';
import { StaleHolders, groupCommit, lockAndClaim } from './group-commit.js';
import * as ledger from './ledger.repository.js';
import type { EventRow, RegistrationRow } from './ledger.repository.js';
import * as repo from './registrations.repository.js';
import type { AttendeeOrdering } from './registrations.schemas.js';
import type { RegistrationView, RegistrationWithTickets } from './registrations.present.js';
import { listeningEndpoints, queueWebhooks, queueWebhooksTo, registrationItem } from '../webhooks/webhooks.service.js';
import { decideBatch, pickPromotions, promoted, released, freeSeats, type Decision, type LiveStatus } from './seat-rule.js';

export type { RegistrationView, RegistrationWithTickets };
export { StaleHolders };

const messages = {
  registered: (title: string) => `You have successfully registered for ${title}.`,
  waitlisted: (title: string) => `${title} is full. You have been added to the waiting list.`,
  promoted: (title: string) => `A place opened up: you are now registered for ${title}.`,
  cancelledByOwner: (title: string) => `Your registration for ${title} has been cancelled.`,
  cancelledByOrganizer: (title: string) => `Your registration for ${title} has been cancelled by the organizer.`,
};

async function withTickets<R extends RegistrationView>(db: Db, rows: R[]): Promise<(R & RegistrationWithTickets)[]> {
  const tickets = await ticketsOf(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((r) => ({ ...r, tickets: tickets.get(r.id)! }));
}

/** A registration its caller may see, with its tickets; anything else is a 404. */
async function visibleRegistration(db: Db, actor: AuthUser, id: string): Promise<RegistrationWithTickets> {
  const view = await repo.findRegistrationView(db, id);
  if (!view || !canReadRegistration(actor, view)) throw notFound();
  const [full] = await withTickets(db, [view]);
  return full!;
}

export interface Order {
  user: AuthUser;
  quantity: number;
  /** When the request arrived: its registration's created_at, and what "the event has started" is judged by. */
  now: Date;
}

/**
 * Registers `user` for `quantity` seats. All seats are taken if they are all free; otherwise the whole order joins
 * the waiting list, without tickets. Concurrent orders for one event are group-committed (group-commit.ts).
 */
export async function register(
  db: Db,
  user: AuthUser,
  input: { eventId: string; quantity: number },
  now: Date,
): Promise<RegistrationWithTickets> {
  return batcherFor(db).run(input.eventId, { user, quantity: input.quantity, now });
}

function refusal(decision: Exclude<Decision, { status: LiveStatus }>): ApiError {
  switch (decision.refused) {
    case 'event_cancelled':
      return badRequest('This event has been cancelled; registration is closed.', 'event_inactive');
    case 'event_unpublished':
      return badRequest('This event is not published; registration is closed.', 'event_inactive');
    case 'event_started':
      return badRequest('This event has already started; registration is closed.', 'event_started');
    case 'already_registered':
      return decision.held === 'waitlisted'
        ? badRequest('You are already on the waiting list for this event.', 'already_registered')
        : badRequest('You are already registered for this event.', 'already_registered');
  }
}

/**
 * Takes seats for a batch of orders on one event, in arrival order, inside one transaction that locks the event row
 * first (so batches from every process queue on that lock and never oversell): seat-rule.ts decides, exactly as one
 * transaction per order would; then one statement writes the orders, their tickets, the counters, the notifications
 * and their mails, and the transaction commits. `readHolders`: see group-commit.ts.
 */
export async function registerOrders(
  tx: Db,
  eventId: string,
  claim: Order[] | ClaimItems<Order>,
  { readHolders }: { readHolders: boolean } = { readHolders: true },
): Promise<BatchOutcome<RegistrationWithTickets>[]> {
  // Read before the lock, so the lock is not held for it (an endpoint added meanwhile hears from the next change).
  const endpoints = await listeningEndpoints(tx, eventId);
  const { orders, locked } = await lockAndClaim(tx, eventId, Array.isArray(claim) ? () => claim : claim, readHolders);
  if (!locked) {
    const error = ValidationError.field('event', `Invalid pk "${eventId}" - object does not exist.`);
    return orders.map(() => ({ ok: false, error }));
  }
  const { event, holders } = locked;
  const decisions = decideBatch(
    event,
    orders.map((o) => ({ userId: o.user.id, quantity: o.quantity, at: o.now })),
    holders,
  );
  const outcomes: BatchOutcome<RegistrationWithTickets>[] = [];
  const accepted: Array<{ index: number; order: Order; row: RegistrationRow & { status: LiveStatus } }> = [];
  decisions.forEach((decision, index) => {
    if (!('status' in decision)) {
      outcomes[index] = { ok: false, error: refusal(decision) };
      return;
    }
    const order = orders[index]!;
    const row = {
      id: randomUUID(),
      userId: order.user.id,
      eventId,
      quantity: order.quantity,
      status: decision.status,
      createdAt: order.now,
      updatedAt: order.now,
      cancelledAt: null,
    };
    accepted.push({ index, order, row });
  });
  if (accepted.length === 0) return outcomes;
  const planned = planTickets(accepted.map((a) => a.row).filter((row) => row.status === 'registered'));
  // One statement, so one round trip under the event lock: the orders, their tickets, the counters, the
  // notifications and their mails.
  const [{ inserted, issued }] = await writeInOneStatement(tx, [
    ledger.decidedOrdersWrite(
      eventId,
      accepted.map((a) => a.row),
      planned,
    ),
    notificationsWrite(
      accepted.map(({ row }) => ({
        userId: row.userId,
        eventId,
        kind: row.status,
        message: messages[row.status](event.title),
        createdAt: row.createdAt,
      })),
    ),
  ]);
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
      new Date(Math.max(...accepted.map((a) => a.row.createdAt.getTime()))),
    );
  }
  for (const { index, order, row } of accepted) {
    outcomes[index] = {
      ok: true,
      value: {
        ...row,
        waitlistPosition: inserted.get(row.id) ?? null,
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

const batcherFor = groupCommit<Order, RegistrationWithTickets>(registerOrders);

/**
 * Locks the event row for a change that involves its seats (an edit of the event, a check-in): every such change
 * queues on this lock. Returns the event as locked.
 */
export const lockEventSeats = (tx: Db, eventId: string): Promise<EventRow | undefined> => ledger.lockEvent(tx, eventId);

/**
 * Fills free seats from the waiting list (seat-rule.ts's pickPromotions). Runs inside the caller's transaction (a
 * cancellation, a capacity increase) and locks the event row itself (a no-op when the caller already holds it).
 * Returns the promoted orders.
 */
export async function promoteWaitlist(tx: Db, eventId: string, now: Date): Promise<RegistrationRow[]> {
  const event = await ledger.lockEvent(tx, eventId);
  // An unpublished event still takes place: its waiting list is served as usual.
  if (!event || event.cancelledAt) return [];
  const free = freeSeats(event);
  if (free <= 0 || event.waitlistCount === 0) return [];
  const chosen = pickPromotions(free, await repo.listWaitlisted(tx, eventId));
  if (chosen.length === 0) return [];
  const rows = await ledger.setRegistrationStatus(
    tx,
    chosen.map((r) => r.id),
    'registered',
    now,
  );
  const tickets = await issueTicketsFor(tx, rows, now);
  await ledger.moveCounters(tx, eventId, promoted(rows), now);
  await writeNotifications(
    tx,
    rows.map((r) => ({ userId: r.userId, eventId, kind: 'promoted' as const, message: messages.promoted(event.title), createdAt: now })),
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
 * The events module changed an event's capacity (in its transaction, holding the event lock): seats it added go to
 * the waiting list first. Returns whether anybody was promoted (the event's counters then moved).
 */
export async function capacityChanged(tx: Db, event: { id: string }, now: Date): Promise<boolean> {
  return (await promoteWaitlist(tx, event.id, now)).length > 0;
}

/**
 * Cancels a registration for its owner, or for the event's organizer or staff. Its tickets stop being valid, its
 * seats return to the event and the waiting list is promoted, all in one transaction.
 */
export async function cancelRegistration(db: Db, actor: AuthUser, registrationId: string, now: Date): Promise<RegistrationWithTickets> {
  const visible = await repo.findRegistrationView(db, registrationId);
  if (!visible || !canReadRegistration(actor, visible)) throw notFound();
  return db.transaction(async (tx) => {
    const event = (await ledger.lockEvent(tx, visible.eventId))!;
    // Read again under the lock: a concurrent cancel may have won.
    const registration = (await repo.findRegistration(tx, registrationId))!;
    if (registration.status === 'cancelled') {
      throw badRequest('This registration is already cancelled.', 'already_cancelled');
    }
    if (event.dateTime.getTime() <= now.getTime()) {
      throw badRequest('The event has already started; the registration can no longer be cancelled.', 'event_started');
    }
    const live = { status: registration.status, quantity: registration.quantity };
    await ledger.setRegistrationStatus(tx, [registration.id], 'cancelled', now);
    await ledger.moveCounters(tx, event.id, released(live), now);
    const message = actor.id === registration.userId ? messages.cancelledByOwner : messages.cancelledByOrganizer;
    await writeNotifications(tx, [
      { userId: registration.userId, eventId: event.id, kind: 'registration_cancelled', message: message(event.title), createdAt: now },
    ]);
    // Before the promotions it makes room for, so an endpoint hears of them in that order.
    const cancelledTickets = (await ticketsOf(tx, [registration.id])).get(registration.id) ?? [];
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
    if (live.status === 'registered') await promoteWaitlist(tx, event.id, now);
    return visibleRegistration(tx, actor, registrationId);
  });
}

/**
 * For an event the organizer cancels: every live registration is cancelled, the seats and the waiting list are
 * emptied and each registrant is told. Runs in the caller's transaction; deactivating the event is the caller's job.
 * Returns the number of registrations cancelled.
 */
export async function cancelAllForEvent(tx: Db, eventId: string, now: Date): Promise<number> {
  const event = await ledger.lockEvent(tx, eventId);
  if (!event) return 0;
  // Before the registrations change: the notifications module tells whoever is still registered or waitlisted.
  await notifyEventCancelled(tx, event, now);
  const live = await repo.listLiveRegistrations(tx, eventId);
  await ledger.setRegistrationStatus(
    tx,
    live.map((r) => r.id),
    'cancelled',
    now,
  );
  await ledger.moveCounters(tx, eventId, { seats: -event.registeredCount, waitlisted: -event.waitlistCount }, now);
  return live.length;
}

export async function getRegistration(db: Db, actor: AuthUser, id: string): Promise<RegistrationWithTickets> {
  return visibleRegistration(db, actor, id);
}

/** A page of the caller's own registrations, as the total and the results already written as JSON text. */
export async function listMine(
  db: Db,
  user: AuthUser,
  query: { status?: RegistrationStatus; upcoming?: boolean },
  page: { limit: number; offset: number },
  now: Date,
): Promise<PageJson> {
  return repo.listMineJson(db, { userId: user.id, status: query.status, eventsFrom: query.upcoming ? now : undefined }, page);
}

/** What the organizer's list of one event's registrations may be narrowed and sorted by. */
export interface AttendeeQuery {
  status?: RegistrationStatus;
  search?: string;
  ordering?: AttendeeOrdering;
}

/**
 * The registrations of one event for its organizer or staff, a page at a time: oldest first, as a door list reads,
 * unless `ordering` says otherwise.
 */
export async function listForEvent(
  db: Db,
  actor: AuthUser,
  eventId: string,
  query: AttendeeQuery,
  page: { limit: number; offset: number },
): Promise<{ rows: (repo.AttendeeView & RegistrationWithTickets)[]; total: number }> {
  await assertCanManageRegistrations(db, actor, eventId);
  const { rows, total } = await repo.listRegistrationViews(
    db,
    { eventId, status: query.status, search: query.search },
    { ...page, oldestFirst: true, ordering: query.ordering },
  );
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
  query: AttendeeQuery,
  pageSize = 1_000,
): Promise<AsyncGenerator<RegistrationWithTickets[]>> {
  await assertCanManageRegistrations(db, actor, eventId);
  return (async function* pages() {
    for (let offset = 0; ; offset += pageSize) {
      const { rows } = await repo.listRegistrationViews(
        db,
        { eventId, status: query.status, search: query.search },
        { limit: pageSize, offset, oldestFirst: true, ordering: query.ordering },
      );
      yield await withTickets(db, rows);
      if (rows.length < pageSize) return;
    }
  })();
}

async function assertCanManageRegistrations(db: Db, actor: AuthUser, eventId: string): Promise<void> {
  const event = await repo.findEvent(db, eventId);
  if (!event || !canReadEvent(actor, event)) throw notFound();
  if (!canManageEvent(actor, event)) throw forbidden('Only the event organizer or staff can see its registrations.');
}

export const countRegistrationsByUser = repo.countByUser;
export const registrationsPerDay = repo.registrationsPerDay;
