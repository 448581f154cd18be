import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Paginated, pageWindow, paginated } from '../../lib/pagination.js';
import { IdParams, errorResponses } from '../../lib/schemas.js';
import { currentUser } from '../../plugins/auth.js';
import {
  CreateFeedbackBody,
  Feedback,
  FeedbackListQuery,
  ReplaceFeedbackBody,
  UpdateFeedbackBody,
  toFeedbackResponse,
} from './feedbacks.schemas.js';
import * as service from './feedbacks.service.js';

const tags = ['feedbacks'];
const security = [{ bearerAuth: [] }];

const feedbackRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/feedbacks/',
    {
      config: { publicCache: true },
      schema: {
        tags,
        summary: 'All feedback, newest first',
        querystring: FeedbackListQuery,
        response: { 200: Paginated(Feedback), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const window = pageWindow(request.query);
      const { event, user, rating } = request.query;
      const { rows, total } = await service.listFeedbacks(app.db, { eventId: event, userId: user, rating }, window.limit, window.offset);
      return paginated(request, window, total, rows.map(toFeedbackResponse));
    },
  );

  app.post(
    '/feedbacks/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        summary: 'Leave feedback on an event you attended',
        description:
          'Allowed once per user and event (a second one is a 400 under non_field_errors), once the event has started ' +
          '(ended, when it has an end_time; otherwise a 400), and only with a `registered` registration for it: ' +
          'a user with none, or only a waitlisted or cancelled one, gets 403 `not_registered`. ' +
          'An unknown or cancelled event is a 400 on `event`. The author is the caller.',
        body: CreateFeedbackBody,
        response: { 201: Feedback, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const row = await service.createFeedback(app.db, currentUser(request).id, request.body, app.clock.now());
      return reply.code(201).send(toFeedbackResponse(row));
    },
  );

  app.get(
    '/feedbacks/:id/',
    {
      config: { publicCache: true },
      schema: { tags, summary: 'One feedback', params: IdParams, response: { 200: Feedback, ...errorResponses(404) } },
    },
    async (request) => toFeedbackResponse(await service.getFeedback(app.db, request.params.id)),
  );

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/feedbacks/:id/',
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        summary: method === 'PUT' ? 'Replace your feedback' : 'Change part of your feedback',
        description: 'The author only (403 for anyone else). `event` and `user` cannot change.',
        params: IdParams,
        body: method === 'PUT' ? ReplaceFeedbackBody : UpdateFeedbackBody,
        response: { 200: Feedback, ...errorResponses(400, 401, 403, 404) },
      },
      handler: async (request) => {
        const body = request.body as { rating?: number; comment?: string };
        const changes = method === 'PUT' ? { rating: body.rating, comment: body.comment ?? '' } : body;
        const row = await service.updateFeedback(app.db, currentUser(request), request.params.id, changes, app.clock.now());
        return toFeedbackResponse(row);
      },
    });
  }

  app.delete(
    '/feedbacks/:id/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        summary: 'Delete your feedback (staff: any feedback)',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await service.deleteFeedback(app.db, currentUser(request), request.params.id, app.clock.now());
      return reply.code(204).send(null);
    },
  );
};

export default feedbackRoutes;
