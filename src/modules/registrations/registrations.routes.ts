import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Readable } from 'node:stream';
import { csvChunks } from '../../lib/csv.js';
import { Paginated, pageWindow, paginated, paginatedBody } from '../../lib/pagination.js';
import { IdParams, IdempotencyHeaders, errorResponses } from '../../lib/schemas.js';
import { currentUser } from '../../plugins/auth.js';
import { CSV_HEADER, toCsvRow, toEventRegistrationResponse, toRegistrationResponse } from './registrations.present.js';
import { EventRegistration, EventRegistrationsQuery, MineQuery, RegisterBody, Registration } from './registrations.schemas.js';
import * as service from './registrations.service.js';

const tags = ['registrations'];
const security = [{ bearerAuth: [] }];

const registrationsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/registrations/',
    {
      preHandler: [app.auth.required, app.requireVerifiedEmail, app.idempotent],
      schema: {
        tags,
        security,
        summary: 'Register for an event',
        description:
          'Takes `quantity` seats if they are all free (one ticket per seat); otherwise the whole order joins the ' +
          'waiting list without tickets. One live registration per user and event. 400 codes: `already_registered`, ' +
          '`event_inactive`, `event_started`; 422 `idempotency_key_reused`; 409 `idempotency_key_in_progress`; 403 ' +
          '`email_not_verified` when REQUIRE_EMAIL_VERIFICATION is on and your address is unconfirmed.',
        headers: IdempotencyHeaders,
        body: RegisterBody(app.config.maxTicketsPerRegistration),
        response: { 201: Registration, ...errorResponses(400, 401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      const registration = await service.register(
        app.db,
        currentUser(request),
        { eventId: request.body.event, quantity: request.body.quantity },
        app.clock.now(),
      );
      return reply.code(201).send(toRegistrationResponse(registration));
    },
  );

  app.get(
    '/registrations/mine/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        summary: 'Your registrations with their tickets, newest first',
        querystring: MineQuery,
        response: { 200: Paginated(Registration), ...errorResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const window = pageWindow(request.query);
      const { total, resultsJson, resultsKey } = await service.listMine(
        app.db,
        currentUser(request),
        { status: request.query.status, upcoming: request.query.upcoming },
        window,
        app.clock.now(),
      );
      // Already JSON (PostgreSQL wrote each registration as toRegistrationResponse would): a string with a JSON
      // content type is sent as is, without the schema's serializer. registrations.present.ts has both shapes side by side.
      return reply.type('application/json; charset=utf-8').send(paginatedBody(request, window, total, resultsJson, resultsKey));
    },
  );

  app.get(
    '/registrations/:id/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        summary: 'One registration (its owner, the event organizer or staff)',
        params: IdParams,
        response: { 200: Registration, ...errorResponses(401, 404) },
      },
    },
    async (request) => toRegistrationResponse(await service.getRegistration(app.db, currentUser(request), request.params.id)),
  );

  app.post(
    '/registrations/:id/cancel/',
    {
      preHandler: [app.auth.required, app.idempotent],
      schema: {
        tags,
        security,
        summary: 'Cancel a registration (its owner, the event organizer or staff)',
        description:
          'Its tickets stop being valid, its seats return to the event and the waiting list is promoted. ' +
          '400 codes: `already_cancelled`, `event_started`.',
        params: IdParams,
        headers: IdempotencyHeaders,
        response: { 200: Registration, ...errorResponses(400, 401, 404, 409, 422) },
      },
    },
    async (request) =>
      toRegistrationResponse(await service.cancelRegistration(app.db, currentUser(request), request.params.id, app.clock.now())),
  );

  app.get(
    '/events/:id/registrations/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        summary: "An event's registrations (its organizer or staff), oldest first",
        description:
          '`search` finds a holder by username, email or ticket code; `status` filters and `ordering` sorts. ' +
          'JSON pages by default; the whole list as CSV (header row, RFC 4180) with `Accept: text/csv` or `?format=csv`. ' +
          'CSV cells that a spreadsheet would run as a formula are prefixed with a single quote.',
        params: IdParams,
        querystring: EventRegistrationsQuery,
        response: {
          200: {
            content: {
              'application/json': { schema: Paginated(EventRegistration) },
              'text/csv': { schema: Type.String() },
            },
          },
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const actor = currentUser(request);
      const { status, search, ordering } = request.query;
      const filter = { status, search, ordering };
      const wantsCsv = request.query.format === 'csv' || (request.headers.accept ?? '').includes('text/csv');
      if (wantsCsv) {
        const pages = await service.exportForEvent(app.db, actor, request.params.id, filter);
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="event-${request.params.id}-registrations.csv"`)
          .send(Readable.from(csvChunks(CSV_HEADER, pages, toCsvRow)));
      }
      const window = pageWindow(request.query);
      const { rows, total } = await service.listForEvent(app.db, actor, request.params.id, filter, window);
      return reply.send(paginated(request, window, total, rows.map(toEventRegistrationResponse)));
    },
  );
};

export default registrationsRoutes;
