import { sql } from 'drizzle-orm';
import { events } from '../../db/schema.js';
import { ratingAverage } from '../feedbacks/feedbacks.service.js';
import { freeSeats, isSellingOutSoon } from '../registrations/seat-rule.js';
import type { EventRow } from './events.repository.js';
import type { Event, EventStatus } from './events.schemas.js';

/**
 * Both shapes of an event: the API's `Event` as TypeScript writes it here, and the same JSON as PostgreSQL keeps it
 * in events.api_json (event_api_json, migration 0011) for the lists and the event page, which then neither map rows
 * nor serialize them, nor make PostgreSQL build 100 objects per page. A change to one is a change to both (a new
 * migration replacing the function): test/events-json.test.ts holds them equal.
 */

/** The event's state, as the API reports it in `status`. */
export function eventStatus(event: Pick<EventRow, 'isActive' | 'cancelledAt'>): EventStatus {
  if (event.cancelledAt) return 'cancelled';
  return event.isActive ? 'published' : 'unpublished';
}

/** The API's `Event`. */
export function toEventResponse(row: EventRow): Event {
  const ticketsRemaining = freeSeats(row);
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    location: row.location,
    date_time: row.dateTime.toISOString(),
    end_time: row.endTime ? row.endTime.toISOString() : null,
    capacity: row.capacity,
    registered_count: row.registeredCount,
    waitlist_count: row.waitlistCount,
    event_ticket_sells_off_soon: row.sellsOffSoonThreshold,
    tickets_remaining: ticketsRemaining,
    is_selling_out_soon: isSellingOutSoon(row),
    is_sold_out: ticketsRemaining === 0,
    is_active: row.isActive,
    status: eventStatus(row),
    is_recurring: row.isRecurring,
    organizer: row.organizerId,
    category: row.categoryId,
    rating_average: ratingAverage(row.ratingSum, row.ratingCount),
    rating_count: row.ratingCount,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/**
 * toEventResponse written by PostgreSQL for the `events` row in scope: the stored column api_json, which the database
 * keeps up to date as the row changes (event_api_json in migration 0011). JSON with a space around each colon.
 */
export const eventJsonSql = sql<string>`${events.apiJson}`;
