import { Type } from 'typebox';
import { DateTime, Uuid } from '../../lib/schemas.js';

export const CheckInBody = Type.Object({
  code: Type.String({ minLength: 1, maxLength: 64 }),
  event: Type.Optional(
    Uuid('The event being checked in at the door: a ticket of another event is refused with 409 `wrong_event` instead of admitted.'),
  ),
});

export const TicketDetail = Type.Object({
  id: Uuid(),
  code: Type.String(),
  seat: Type.Integer(),
  quantity: Type.Integer({ description: 'Seats of its registration: this is seat `seat` of `quantity`.' }),
  is_used: Type.Boolean(),
  used_at: Type.Union([DateTime(), Type.Null()]),
  used_by: Type.Union([Type.Object({ id: Uuid(), username: Type.String() }), Type.Null()], {
    description: 'Who checked it in (null before, or once that account is gone).',
  }),
  status: Type.Enum(['valid', 'used', 'cancelled'], {
    description: '`valid` admits; `used` was checked in; `cancelled` belongs to a cancelled registration.',
  }),
  registration: Uuid(),
  holder: Type.Object({ id: Uuid(), username: Type.String() }),
  event: Type.Object({ id: Uuid(), title: Type.String(), date_time: DateTime() }),
});

export const TicketCodeParams = Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) });
