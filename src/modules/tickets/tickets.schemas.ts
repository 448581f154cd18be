import { Type } from 'typebox';
import { DateTime, Uuid } from '../../lib/schemas.js';

export const CheckInBody = Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) });

export const TicketDetail = Type.Object({
  id: Uuid(),
  code: Type.String(),
  seat: Type.Integer(),
  is_used: Type.Boolean(),
  used_at: Type.Union([DateTime(), Type.Null()]),
  status: Type.Enum(['valid', 'used', 'cancelled'], {
    description: '`valid` admits; `used` was checked in; `cancelled` belongs to a cancelled registration.',
  }),
  registration: Uuid(),
  holder: Type.Object({ id: Uuid(), username: Type.String() }),
  event: Type.Object({ id: Uuid(), title: Type.String(), date_time: DateTime() }),
});

export const TicketCodeParams = Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) });
