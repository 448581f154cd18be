import { Type } from 'typebox';
import { registrationStatuses } from '../../db/schema.js';
import { PaginationQuery } from '../../lib/pagination.js';
import { DateTime, Uuid } from '../../lib/schemas.js';

export const RegistrationStatus = Type.Enum(registrationStatuses, {
  description: '`registered` holds seats and tickets; `waitlisted` waits for seats, without tickets; `cancelled` is history.',
});

export const RegisterBody = (maxQuantity: number) =>
  Type.Object({
    event: Uuid('The event to register for.'),
    quantity: Type.Integer({
      minimum: 1,
      maximum: maxQuantity,
      default: 1,
      description: `Seats in this order, 1..${maxQuantity}. All seats are granted together, or the whole order is waitlisted.`,
    }),
  });

export const TicketInstance = Type.Object({
  id: Uuid(),
  code: Type.String({ description: 'What the door scans: `EVT-<12 random base32 characters>-<seat>`.' }),
  seat: Type.Integer({ description: 'Seat number within the order, from 1.' }),
  is_used: Type.Boolean(),
});

export const Registration = Type.Object({
  id: Uuid(),
  user: Uuid(),
  event: Uuid(),
  event_title: Type.String({ description: "The event's title, embedded so a client needs no extra call." }),
  event_date_time: DateTime("The event's start, embedded so a client needs no extra call."),
  quantity: Type.Integer(),
  status: RegistrationStatus,
  is_waitlisted: Type.Boolean(),
  waitlist_position: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
    description: 'Place on the waiting list (1 is served first); null unless waitlisted.',
  }),
  created_at: DateTime(),
  cancelled_at: Type.Union([DateTime(), Type.Null()]),
  ticket_instances: Type.Array(TicketInstance, {
    description: 'One per seat once registered; empty while waitlisted. Tickets of a cancelled registration are void.',
  }),
});

/** A registration in the organizer's list also names its holder and says when each ticket was checked in. */
export const EventRegistration = Type.Object({
  ...Registration.properties,
  username: Type.String({ description: "The holder's username." }),
  email: Type.String({ description: "The holder's email address." }),
  ticket_instances: Type.Array(
    Type.Object({
      ...TicketInstance.properties,
      used_at: Type.Union([DateTime(), Type.Null()], { description: 'When it was checked in.' }),
    }),
    { description: 'One per seat once registered; empty while waitlisted. Tickets of a cancelled registration are void.' },
  ),
});

export const MineQuery = Type.Object({
  ...PaginationQuery,
  status: Type.Optional(RegistrationStatus),
  upcoming: Type.Optional(Type.Boolean({ description: 'true: only events that have not started yet.' })),
});

export const attendeeOrderings = [
  'created_at',
  '-created_at',
  'username',
  '-username',
  'email',
  '-email',
  'quantity',
  '-quantity',
] as const;
export type AttendeeOrdering = (typeof attendeeOrderings)[number];

export const EventRegistrationsQuery = Type.Object({
  ...PaginationQuery,
  status: Type.Optional(RegistrationStatus),
  search: Type.Optional(
    Type.String({
      maxLength: 200,
      description: "Holder's username or email contains it, or one of the ticket codes does (case-insensitive).",
    }),
  ),
  ordering: Type.Optional(
    Type.Unsafe<AttendeeOrdering>({
      type: 'string',
      enum: [...attendeeOrderings],
      description: 'Sort order (default `created_at`: oldest first, as a door list reads).',
    }),
  ),
  format: Type.Optional(Type.Literal('csv', { description: 'csv: the whole list (not paged) as CSV; `Accept: text/csv` does the same.' })),
});
