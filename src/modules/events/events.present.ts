import { sql } from 'drizzle-orm';
import { isoUtc } from '../../db/sql-json.js';
import { events } from '../../db/schema.js';
import { ratingAverage } from '../feedbacks/feedbacks.service.js';
import { freeSeats, isSellingOutSoon } from '../registrations/seat-rule.js';
import type { EventRow } from './events.repository.js';
import type { Event, EventStatus } from './events.schemas.js';

/**
 * Both shapes of an event, side by side: the API's `Event` as TypeScript writes it, and the same JSON as PostgreSQL
 * writes it for the lists and the event page (Node then neither maps the rows nor serializes them, most of a list's
 * cost). A change to one is a change to both: test/events-json.test.ts holds them equal.
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

const remaining = sql`(${events.capacity} - ${events.registeredCount})`;

/** toEventResponse written by PostgreSQL for the `events` row in scope (compact, as JSON.stringify writes it). */
export const eventJsonSql = sql<string>`(select row_to_json(item)::text from (select
    ${events.id} as id, ${events.title} as title, ${events.description} as description, ${events.location} as location,
    ${isoUtc(events.dateTime)} as date_time, ${isoUtc(events.endTime)} as end_time, ${events.capacity} as capacity,
    ${events.registeredCount} as registered_count, ${events.waitlistCount} as waitlist_count,
    ${events.sellsOffSoonThreshold} as event_ticket_sells_off_soon, ${remaining} as tickets_remaining,
    (${events.sellsOffSoonThreshold} > 0 and ${remaining} > 0 and ${remaining} <= ${events.sellsOffSoonThreshold}) as is_selling_out_soon,
    ${remaining} = 0 as is_sold_out, ${events.isActive} as is_active,
    case when ${events.cancelledAt} is not null then 'cancelled' when ${events.isActive} then 'published' else 'unpublished' end as status,
    ${events.isRecurring} as is_recurring, ${events.organizerId} as organizer, ${events.categoryId} as category,
    case when ${events.ratingCount} > 0
      then round((${events.ratingSum} * 10)::numeric / ${events.ratingCount})::float8 / 10 end as rating_average,
    ${events.ratingCount} as rating_count, ${isoUtc(events.createdAt)} as created_at, ${isoUtc(events.updatedAt)} as updated_at
  ) as item)`;
