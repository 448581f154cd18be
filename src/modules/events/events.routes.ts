import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Paginated, pageWindow, paginatedBody } from '../../lib/pagination.js';
import { IdParams, errorResponses } from '../../lib/schemas.js';
import { currentUser } from '../../plugins/auth.js';
import { eventCalendar } from './events.ics.js';
import { Event, EventCreateBody, EventListQuery, EventReplaceBody, EventStats, EventUpdateBody, MyEventsQuery } from './events.schemas.js';
import * as events from './events.service.js';
import { toEventResponse } from './events.present.js';

export { toEventResponse };

const tags = ['events'];
const bearer = [{ bearerAuth: [] }];

const eventsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const listCounts = new events.ListCountCache(app.config.listCountCacheSeconds, app.clock);
  app.get(
    '/events/',
    {
      config: { publicCache: true },
      schema: {
        tags,
        summary: 'Upcoming active events: search, filters, ordering, pages',
        description:
          'By default only events that have not started yet (at request time), soonest first. Date filters narrow ' +
          'that window; add `include_past=true` for past events. A malformed parameter is a 400 naming it.',
        querystring: EventListQuery,
        response: { 200: Paginated(Event), ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const window = pageWindow(request.query);
      const { total, resultsJson, resultsKey } = await events.listEvents(app.db, request.query, window, app.clock.now(), listCounts);
      // Already JSON (PostgreSQL wrote each event as toEventResponse would; events.present.ts): a string with a JSON
      // content type is sent as is, without the schema's serializer.
      return reply.type('application/json; charset=utf-8').send(paginatedBody(request, window, total, resultsJson, resultsKey));
    },
  );

  app.get(
    '/events/mine/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security: bearer,
        summary: 'Your own events, past and cancelled ones included',
        description: '`show` narrows them to upcoming, past or inactive (unpublished and cancelled) events.',
        querystring: MyEventsQuery,
        response: { 200: Paginated(Event), ...errorResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const window = pageWindow(request.query);
      const { total, resultsJson, resultsKey } = await events.listMyEvents(
        app.db,
        currentUser(request),
        request.query,
        window,
        app.clock.now(),
      );
      return reply.type('application/json; charset=utf-8').send(paginatedBody(request, window, total, resultsJson, resultsKey));
    },
  );

  app.post(
    '/events/create/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security: bearer,
        summary: 'Create an event (organizers only)',
        body: EventCreateBody,
        response: { 201: Event, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const row = await events.createEvent(app.db, currentUser(request), request.body, app.clock.now());
      return reply.code(201).send(toEventResponse(row));
    },
  );

  app.get(
    '/events/:id/',
    {
      config: { publicCache: true },
      preHandler: app.auth.optional,
      schema: {
        tags,
        summary: 'One event',
        description: 'A cancelled event is visible to its organizer and staff only.',
        params: IdParams,
        response: { 200: Event, ...errorResponses(401, 404) },
      },
    },
    async (request, reply) =>
      reply.type('application/json; charset=utf-8').send(await events.getVisibleEventJson(app.db, request.user, request.params.id)),
  );

  app.get(
    '/events/:id/stats/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security: bearer,
        summary: "An event's numbers (its organizer or staff): seats, waiting list, check-ins, orders per day",
        description:
          'What the organizer console shows beside each event. Organizers and staff are told on their notification ' +
          'stream (`event: event_activity`) when these may have changed.',
        params: IdParams,
        response: { 200: EventStats, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => events.getEventStats(app.db, currentUser(request), request.params.id),
  );

  app.get(
    '/events/:id/calendar.ics',
    {
      preHandler: app.auth.optional,
      schema: {
        tags,
        summary: 'The event as an iCalendar file (RFC 5545)',
        params: IdParams,
        response: {
          200: { description: 'An iCalendar object with one VEVENT.', content: { 'text/calendar': { schema: Type.String() } } },
          ...errorResponses(401, 404),
        },
      },
    },
    async (request, reply) => {
      const event = await events.getVisibleEvent(app.db, request.user, request.params.id);
      return reply
        .type('text/calendar; charset=utf-8')
        .header('content-disposition', `attachment; filename="event-${event.id}.ics"`)
        .send(eventCalendar(event, app.clock.now()));
    },
  );

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/events/:id/edit/',
      preHandler: app.auth.required,
      schema: {
        tags,
        security: bearer,
        summary: method === 'PUT' ? 'Replace an event (its organizer or staff)' : 'Update part of an event (its organizer or staff)',
        description: 'Capacity may not go below `registered_count`. A cancelled event cannot be edited (409).',
        params: IdParams,
        body: method === 'PUT' ? EventReplaceBody : EventUpdateBody,
        response: { 200: Event, ...errorResponses(400, 401, 403, 404, 409) },
      },
      handler: async (request) =>
        toEventResponse(await events.updateEvent(app.db, currentUser(request), request.params.id, request.body, app.clock.now())),
    });
  }

  app.delete(
    '/events/:id/edit/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security: bearer,
        summary: 'Cancel an event (its organizer or staff)',
        description:
          'Sets `is_active` to false and keeps the event as history: its organizer and staff still see it; it leaves ' +
          'the public list. Cancelling a cancelled event is a no-op.',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await events.cancelEvent(app.db, currentUser(request), request.params.id, app.clock.now());
      return reply.code(204).send(null);
    },
  );
};

export default eventsRoutes;
