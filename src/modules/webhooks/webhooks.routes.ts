import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Paginated, PaginationQuery, pageWindow, paginated } from '../../lib/pagination.js';
import { IdParams, errorResponses } from '../../lib/schemas.js';
import { currentUser } from '../../plugins/auth.js';
import {
  DeliveryParams,
  QueuedMessage,
  Webhook,
  WebhookCreate,
  WebhookDelivery,
  WebhookUpdate,
  WebhookWithSecret,
  toDeliveryResponse,
  toWebhookResponse,
} from './webhooks.schemas.js';
import * as service from './webhooks.service.js';

const tags = ['webhooks'];
const security = [{ bearerAuth: [] }];
const OWNERSHIP = "Organizers manage their own endpoints and staff everyone's; another organizer's endpoint answers 404.";

const webhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const policy = { allowHttp: app.config.webhookAllowHttp, allowPrivate: app.config.webhookAllowPrivate };

  app.post(
    '/webhooks/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        summary: 'Add a webhook endpoint',
        description:
          'Deliveries are signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`); the ' +
          'answer carries the signing `secret`, shown this once. The URL is resolved and refused when it points at an internal address.',
        body: WebhookCreate,
        response: { 201: WebhookWithSecret, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const row = await service.createEndpoint(app.db, currentUser(request), request.body, policy, app.clock.now());
      return reply.code(201).send({ ...toWebhookResponse(row), secret: row.secret });
    },
  );

  app.get(
    '/webhooks/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        summary: 'Your webhook endpoints (staff: everyone’s), newest first',
        querystring: Type.Object(PaginationQuery),
        response: { 200: Paginated(Webhook), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const window = pageWindow(request.query);
      const { rows, total } = await service.listEndpoints(app.db, currentUser(request), window.limit, window.offset);
      return paginated(request, window, total, rows.map(toWebhookResponse));
    },
  );

  app.get(
    '/webhooks/:id/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        summary: 'One webhook endpoint',
        description: OWNERSHIP,
        params: IdParams,
        response: { 200: Webhook, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => toWebhookResponse(await service.getEndpoint(app.db, currentUser(request), request.params.id)),
  );

  app.patch(
    '/webhooks/:id/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        summary: 'Change a webhook endpoint',
        description: OWNERSHIP,
        params: IdParams,
        body: WebhookUpdate,
        response: { 200: Webhook, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) =>
      toWebhookResponse(
        await service.updateEndpoint(app.db, currentUser(request), request.params.id, request.body, policy, app.clock.now()),
      ),
  );

  app.delete(
    '/webhooks/:id/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        summary: 'Delete a webhook endpoint',
        description: `${OWNERSHIP} Its queued deliveries are dropped.`,
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await service.deleteEndpoint(app.db, currentUser(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/webhooks/:id/rotate-secret/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        summary: 'Replace the signing secret',
        description: 'The answer carries the new secret, shown this once. For 24 hours deliveries carry signatures by both secrets.',
        params: IdParams,
        response: { 200: WebhookWithSecret, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => {
      const row = await service.rotateSecret(app.db, currentUser(request), request.params.id, app.clock.now());
      return { ...toWebhookResponse(row), secret: row.secret };
    },
  );

  app.post(
    '/webhooks/:id/ping/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        summary: 'Send a test delivery',
        description: 'Queues a `webhook.ping` delivery, sent within seconds; its attempt appears under deliveries.',
        params: IdParams,
        response: { 202: QueuedMessage, ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const row = await service.ping(app.db, currentUser(request), request.params.id, app.clock.now());
      return reply.code(202).send({ message_id: row.id });
    },
  );

  app.get(
    '/webhooks/:id/deliveries/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        summary: "An endpoint's delivery attempts, newest first",
        params: IdParams,
        querystring: Type.Object(PaginationQuery),
        response: { 200: Paginated(WebhookDelivery), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const window = pageWindow(request.query);
      const { rows, total } = await service.listDeliveries(app.db, currentUser(request), request.params.id, window.limit, window.offset);
      return paginated(request, window, total, rows.map(toDeliveryResponse));
    },
  );

  app.post(
    '/webhooks/:id/deliveries/:delivery_id/redeliver/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        summary: 'Send a message again',
        description: 'The message of this attempt is queued again (same `webhook-id` and body). 409 while it is still waiting.',
        params: DeliveryParams,
        response: { 202: QueuedMessage, ...errorResponses(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const row = await service.redeliver(app.db, currentUser(request), request.params.id, request.params.delivery_id, app.clock.now());
      return reply.code(202).send({ message_id: row.id });
    },
  );
};

export default webhookRoutes;
