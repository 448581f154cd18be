import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/client.js';
import { canCheckIn, canManageEvent, canReadTicket } from '../../lib/access.js';
import { conflict, forbidden, notFound } from '../../lib/errors.js';
import { announceEventActivity } from '../notifications/notifications.service.js';
import { checkedInItem, queueWebhooks } from '../webhooks/webhooks.service.js';
import type { AuthUser } from '../../plugins/auth.js';
// The seat ledger's event lock: a check-in queues on it like every other seat change (the one lock of an event row).
import { lockEvent } from '../registrations/ledger.repository.js';
import { ticketCode } from './ticket-codes.js';
import * as repo from './tickets.repository.js';
import type { TicketLookup, TicketRow } from './tickets.repository.js';

export type { TicketLookup, TicketRow };

/** A registered order's seats need one ticket each. */
export interface SeatedOrder {
  id: string;
  eventId: string;
  quantity: number;
  createdAt: Date;
}

/** A seat that needs a ticket. */
export interface PendingSeat {
  registrationId: string;
  eventId: string;
  seat: number;
  createdAt: Date;
}

const CODE_ATTEMPTS = 5;

/** One per seat of each order, created at `now` (default: when its order was). */
const seatsOf = (orders: SeatedOrder[], now?: Date): PendingSeat[] =>
  orders.flatMap((order) =>
    Array.from({ length: order.quantity }, (_, i) => ({
      registrationId: order.id,
      eventId: order.eventId,
      seat: i + 1,
      createdAt: now ?? order.createdAt,
    })),
  );

/**
 * The tickets of newly registered orders with their ids and codes drawn here, for a caller that writes them in its
 * own statement (the registration batch); whichever it could not write (a code already taken) go to issueTickets.
 */
export function planTickets(orders: SeatedOrder[]): TicketRow[] {
  return seatsOf(orders).map((seat) => ({
    ...seat,
    id: randomUUID(),
    code: ticketCode(seat.seat),
    isUsed: false,
    usedAt: null,
    usedBy: null,
  }));
}

/**
 * Issues a ticket for each pending seat (planTickets' rows that the batch statement could not write, or the seats of
 * promoted orders); a code that collides with an existing one (about one in 2^60) is drawn again.
 */
export async function issueTickets(tx: Db, pending: PendingSeat[]): Promise<TicketRow[]> {
  const issued: TicketRow[] = [];
  let seats = pending;
  for (let attempt = 0; attempt < CODE_ATTEMPTS && seats.length > 0; attempt++) {
    const rows = await repo.insertTicketsSkippingTakenCodes(
      tx,
      seats.map((seat) => ({
        registrationId: seat.registrationId,
        eventId: seat.eventId,
        seat: seat.seat,
        createdAt: seat.createdAt,
        code: ticketCode(seat.seat),
      })),
    );
    issued.push(...rows);
    const done = new Set(rows.map((r) => `${r.registrationId}:${r.seat}`));
    seats = seats.filter((seat) => !done.has(`${seat.registrationId}:${seat.seat}`));
  }
  if (seats.length > 0) throw new Error('Could not draw a free ticket code; the random source is broken.');
  return issued.sort((a, b) => a.seat - b.seat);
}

/** Tickets for orders that take their seats at `now` (promoted from the waiting list). */
export const issueTicketsFor = (tx: Db, orders: SeatedOrder[], now: Date) => issueTickets(tx, seatsOf(orders, now));

/** Each registration's tickets, by seat. */
export async function ticketsOf(db: Db, registrationIds: string[]): Promise<Map<string, TicketRow[]>> {
  const byRegistration = new Map<string, TicketRow[]>(registrationIds.map((id) => [id, []]));
  for (const ticket of await repo.listTicketsOf(db, registrationIds)) byRegistration.get(ticket.registrationId)?.push(ticket);
  return byRegistration;
}

export type TicketState = 'valid' | 'used' | 'cancelled';

export const ticketState = (lookup: TicketLookup): TicketState =>
  lookup.registration.status === 'cancelled' ? 'cancelled' : lookup.ticket.isUsed ? 'used' : 'valid';

const holderView = (lookup: TicketLookup) => ({ holderId: lookup.registration.userId, event: lookup.event });

/** A ticket for its holder, the event's organizer or staff; anyone else (and an unknown code) gets 404. */
export async function getTicket(db: Db, actor: AuthUser, code: string): Promise<TicketLookup> {
  const lookup = await repo.findTicketByCode(db, code.toUpperCase());
  if (!lookup || !canReadTicket(actor, holderView(lookup))) throw notFound('Ticket not found.');
  return lookup;
}

/** Checked-in tickets of the event's registered orders (the door's "checked in X of Y"). */
export const countCheckedIn = (db: Db, eventId: string): Promise<number> => repo.countCheckedIn(db, eventId);

/**
 * Scans a ticket at the door for the event's organizer or staff. Exactly one of two simultaneous scans succeeds:
 * the event row is locked first, as for every change to an event's seats (so a cancellation cannot slip in between
 * the check and the scan), and the update only flips an unused ticket. `atEvent` is the event the door is checking
 * in: a ticket of another event the caller manages is refused (409 `wrong_event`, naming it) rather than admitted.
 */
export async function checkIn(db: Db, actor: AuthUser, code: string, now: Date, atEvent?: string): Promise<TicketLookup> {
  if (!canCheckIn(actor)) throw forbidden('Only organizers and staff can check tickets in.');
  const found = await repo.findTicketByCode(db, code.trim().toUpperCase());
  // Another organizer's ticket is answered like an unknown code, so codes cannot be probed.
  if (!found || !canManageEvent(actor, found.event)) throw notFound('Ticket not found.');
  if (atEvent !== undefined && found.event.id !== atEvent) {
    throw conflict(`This ticket is for another event: ${found.event.title}.`, 'wrong_event', {
      event: { id: found.event.id, title: found.event.title, date_time: found.event.dateTime.toISOString() },
    });
  }
  return db.transaction(async (tx) => {
    await lockEvent(tx, found.event.id);
    const current = (await repo.findTicketByCode(tx, found.ticket.code))!;
    if (current.registration.status === 'cancelled') {
      throw conflict('This ticket belongs to a cancelled registration.', 'registration_cancelled');
    }
    const used = await repo.markTicketUsed(tx, current.ticket.id, actor.id, now);
    if (!used) {
      const by = current.usedByUsername ? ` by ${current.usedByUsername}` : '';
      throw conflict(`This ticket has already been checked in${by}.`, 'already_checked_in', {
        used_at: current.ticket.usedAt?.toISOString() ?? null,
        used_by: current.ticket.usedBy && current.usedByUsername ? { id: current.ticket.usedBy, username: current.usedByUsername } : null,
      });
    }
    await queueWebhooks(tx, current.event.id, [checkedInItem(current.event, used, current.registration)], now);
    await announceEventActivity(tx, [current.event.id]);
    return { ...current, ticket: used, usedByUsername: actor.username };
  });
}
