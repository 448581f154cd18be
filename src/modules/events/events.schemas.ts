import { Type, type Static, type TSchema } from 'typebox';
import { PaginationQuery } from '../../lib/pagination.js';
import { DateTime, Uuid } from '../../lib/schemas.js';

export const MAX_CAPACITY = 1_000_000;

export const eventStatuses = ['published', 'unpublished', 'cancelled'] as const;
export type EventStatus = (typeof eventStatuses)[number];

/** `null` allowed beside the type; one clean error message per field, unlike an anyOf with Type.Null(). */
const Nullable = <T extends TSchema>(schema: T) => Type.Unsafe<Static<T> | null>({ ...schema, nullable: true });

export const Event = Type.Object({
  id: Uuid(),
  title: Type.String(),
  description: Type.String(),
  location: Type.String(),
  date_time: DateTime(),
  end_time: Type.Union([DateTime(), Type.Null()]),
  capacity: Type.Integer(),
  registered_count: Type.Integer({ description: 'Seats held by registered (not waitlisted, not cancelled) orders.' }),
  waitlist_count: Type.Integer({ description: 'Orders on the waiting list.' }),
  event_ticket_sells_off_soon: Type.Integer({ description: 'Threshold of remaining seats for "selling out soon"; 0 = off.' }),
  tickets_remaining: Type.Integer(),
  is_selling_out_soon: Type.Boolean({ description: 'Threshold set and 0 < tickets_remaining <= threshold.' }),
  is_sold_out: Type.Boolean(),
  is_active: Type.Boolean({ description: 'True while the event is published; false when unpublished or cancelled.' }),
  status: Type.Unsafe<EventStatus>({
    type: 'string',
    enum: [...eventStatuses],
    description:
      '`published` (listed, open to registration), `unpublished` (hidden from everyone but its organizer and staff, ' +
      'registration closed, registrations kept) or `cancelled` (final: registrations cancelled, attendees told).',
  }),
  is_recurring: Type.Boolean(),
  organizer: Uuid(),
  category: Type.Union([Uuid(), Type.Null()]),
  rating_average: Type.Union([Type.Number(), Type.Null()], { description: 'Mean feedback rating, one decimal.' }),
  rating_count: Type.Integer(),
  created_at: DateTime(),
  updated_at: DateTime(),
});
export type Event = Static<typeof Event>;

const Title = Type.String({ minLength: 1, maxLength: 200 });
const Location = Type.String({ minLength: 1, maxLength: 200 });
const Description = Type.String({ maxLength: 10_000 });
const Capacity = Type.Integer({ minimum: 1, maximum: MAX_CAPACITY });
const Threshold = Type.Integer({ minimum: 0, maximum: MAX_CAPACITY, description: 'At most the capacity.' });
const EndTime = Nullable(DateTime('Optional; after date_time.'));
const CategoryId = Nullable(Uuid('A category id, or null.'));

const editable = {
  title: Title,
  description: Type.Optional(Description),
  location: Location,
  date_time: DateTime('In the future.'),
  end_time: Type.Optional(EndTime),
  capacity: Capacity,
  event_ticket_sells_off_soon: Type.Optional(Threshold),
  category: Type.Optional(CategoryId),
  is_recurring: Type.Optional(Type.Boolean()),
  is_active: Type.Optional(
    Type.Boolean({
      description:
        'false unpublishes the event (hidden, registration closed, registrations kept), true publishes it again. ' +
        'A cancelled event cannot be published again (409). Default on creation: true.',
    }),
  ),
};

const readOnlyNote = '`organizer` is always the caller; `status`, counts and ratings are read-only and ignored if sent.';
export const EventCreateBody = Type.Object(editable, { description: readOnlyNote });
/** PUT needs the required fields; optional ones left out keep their value. */
export const EventReplaceBody = EventCreateBody;
export const EventUpdateBody = Type.Partial(Type.Object(editable), { description: readOnlyNote });
export type EventChanges = Static<typeof EventUpdateBody>;
export type EventInput = Static<typeof EventCreateBody>;

export const orderings = ['date_time', '-date_time', 'created_at', '-created_at', 'title', 'tickets_remaining'] as const;
export type Ordering = (typeof orderings)[number];
const OrderingParam = (fallback: Ordering) =>
  Type.Unsafe<Ordering>({ type: 'string', enum: [...orderings], description: `Sort order (default ${fallback}).` });

const Flag = (description: string) => Type.Boolean({ description });

export const EventListQuery = Type.Object({
  ...PaginationQuery,
  search: Type.Optional(
    Type.String({ maxLength: 200, description: 'Words in title, description or location; case- and accent-insensitive.' }),
  ),
  location: Type.Optional(Type.String({ maxLength: 200, description: 'Location contains this (case- and accent-insensitive).' })),
  category: Type.Optional(Type.String({ maxLength: 100, description: 'A category id or slug.' })),
  date_from: Type.Optional(Type.String({ maxLength: 40, description: 'YYYY-MM-DD or ISO 8601 datetime; inclusive.' })),
  date_to: Type.Optional(Type.String({ maxLength: 40, description: 'YYYY-MM-DD (the whole day, UTC) or ISO 8601 datetime; inclusive.' })),
  organizer: Type.Optional(Uuid('Only events of this organizer.')),
  is_selling_out_soon: Type.Optional(Flag('true: only events selling out soon; false: only the others.')),
  has_seats: Type.Optional(Flag('true: only events with tickets remaining; false: only sold-out ones.')),
  include_past: Type.Optional(Flag('true: past events too (by default only upcoming ones).')),
  ordering: Type.Optional(OrderingParam('date_time')),
});
export type EventListQuery = Static<typeof EventListQuery>;

export const myEventsShows = ['upcoming', 'past', 'inactive'] as const;
export const MyEventsQuery = Type.Object({
  ...PaginationQuery,
  ordering: Type.Optional(OrderingParam('-date_time')),
  show: Type.Optional(
    Type.Unsafe<(typeof myEventsShows)[number]>({
      type: 'string',
      enum: [...myEventsShows],
      description:
        '`upcoming`: published events that have not started; `past`: published events that have; `inactive`: ' +
        'unpublished and cancelled ones. Default: all.',
    }),
  ),
});
export type MyEventsQuery = Static<typeof MyEventsQuery>;

export const EventStats = Type.Object({
  event: Uuid(),
  capacity: Type.Integer(),
  registered_count: Type.Integer({ description: 'Seats held by registered orders.' }),
  waitlist_count: Type.Integer({ description: 'Orders on the waiting list.' }),
  tickets_remaining: Type.Integer(),
  checked_in_count: Type.Integer({ description: 'Tickets of registered orders checked in at the door.' }),
  registrations_over_time: Type.Array(
    Type.Object({
      date: Type.String({ format: 'date', description: 'A UTC day, YYYY-MM-DD.' }),
      registrations: Type.Integer({ description: 'Orders made that day (later cancelled ones included).' }),
      seats: Type.Integer({ description: 'Seats those orders asked for.' }),
    }),
    { description: 'Days with at least one order, oldest first.' },
  ),
});
export type EventStats = Static<typeof EventStats>;
