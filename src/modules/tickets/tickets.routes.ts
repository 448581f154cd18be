import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IdempotencyHeaders, errorResponses } from '../../lib/schemas.js';
import { currentUser } from '../../plugins/auth.js';
import * as tickets from './tickets.service.js';
import type { TicketLookup } from './tickets.service.js';
import { CheckInBody, TicketCodeParams, TicketDetail } from './tickets.schemas.js';

export function toTicketResponse(lookup: TicketLookup) {
  const { ticket, registration, event } = lookup;
  return {
    id: ticket.id,
    code: ticket.code,
    seat: ticket.seat,
    quantity: registration.quantity,
    is_used: ticket.isUsed,
    used_at: ticket.usedAt?.toISOString() ?? null,
    used_by: ticket.usedBy && lookup.usedByUsername ? { id: ticket.usedBy, username: lookup.usedByUsername } : null,
    status: tickets.ticketState(lookup),
    registration: registration.id,
    holder: { id: registration.userId, username: lookup.holderUsername },
    event: { id: event.id, title: event.title, date_time: event.dateTime.toISOString() },
  };
}

const tags = ['tickets'];
const security = [{ bearerAuth: [] }];

const ticketsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/tickets/check-in/',
    {
      preHandler: [app.auth.required, app.idempotent],
      schema: {
        tags,
        security,
        summary: 'Check a ticket in at the door (the event organizer or staff)',
        description:
          'Marks the ticket used. 409 `already_checked_in` (with `used_at` and `used_by`) for a used ticket, 409 ' +
          '`registration_cancelled` for a cancelled registration, 409 `wrong_event` (with `event`) when `event` is given ' +
          "and the ticket is another of your events'; 404 for an unknown code or another organizer's ticket. With an " +
          '`Idempotency-Key` (a door scanner sends one per scan, e.g. a queued offline scan), a retry answers what the ' +
          'first attempt did: the admission, not `already_checked_in`.',
        headers: IdempotencyHeaders,
        body: CheckInBody,
        response: { 200: TicketDetail, ...errorResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request) =>
      toTicketResponse(await tickets.checkIn(app.db, currentUser(request), request.body.code, app.clock.now(), request.body.event)),
  );

  app.get(
    '/tickets/:code/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        summary: 'A ticket and its status (its holder, the event organizer or staff)',
        params: TicketCodeParams,
        response: { 200: TicketDetail, ...errorResponses(401, 404) },
      },
    },
    async (request) => toTicketResponse(await tickets.getTicket(app.db, currentUser(request), request.params.code)),
  );
};

export default ticketsRoutes;
