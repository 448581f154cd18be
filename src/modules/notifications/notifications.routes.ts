import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Type } from 'typebox';
import { ApiError } from '../../lib/errors.js';
import { Paginated, pageWindow, paginatedBody } from '../../lib/pagination.js';
import { IdParams, errorResponses } from '../../lib/schemas.js';
import { currentUser } from '../../plugins/auth.js';
import * as users from '../users/users.service.js';
import { NotificationHub } from './notifications.live.js';
import {
  MarkAllResult,
  Notification,
  NotificationListQuery,
  StreamQuery,
  StreamTicket,
  UnreadCount,
  toNotificationResponse,
} from './notifications.schemas.js';
import * as service from './notifications.service.js';
import { parseStreamEventId, serveNotificationStream } from './notifications.stream.js';

declare module 'fastify' {
  interface FastifyInstance {
    notificationHub: NotificationHub;
  }
}

const tags = ['notifications'];
const security = [{ bearerAuth: [] }];

const invalidTicket = () => new ApiError(401, 'Stream ticket is invalid, expired or already used.', 'invalid_stream_ticket');

const notificationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const hub = new NotificationHub(app.database, app.log, app.config.maxStreamsPerUser);
  app.decorate('notificationHub', hub);
  // Open streams never finish on their own; end them before the server waits for in-flight requests.
  app.addHook('preClose', async () => hub.close());

  app.get(
    '/notifications/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        summary: 'Your notifications, newest first',
        querystring: NotificationListQuery,
        response: { 200: Paginated(Notification), ...errorResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const window = pageWindow(request.query);
      const { total, resultsJson, resultsKey } = await service.listNotificationsJson(
        app.db,
        currentUser(request).id,
        { isRead: request.query.is_read },
        window.limit,
        window.offset,
      );
      // Already JSON (toNotificationResponse, stringified once per row version): sent as is, like the event lists.
      return reply.type('application/json; charset=utf-8').send(paginatedBody(request, window, total, resultsJson, resultsKey));
    },
  );

  app.get(
    '/notifications/unread-count/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        summary: 'How many of your notifications are unread',
        response: { 200: UnreadCount, ...errorResponses(401) },
      },
    },
    async (request) => ({ unread_count: await service.countUnread(app.db, currentUser(request).id) }),
  );

  app.patch(
    '/notifications/:id/mark-as-read/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        summary: 'Mark one of your notifications as read',
        description: "Another user's notification answers 404.",
        params: IdParams,
        response: { 200: Notification, ...errorResponses(401, 404) },
      },
    },
    async (request) => toNotificationResponse(await service.markAsRead(app.db, currentUser(request).id, request.params.id)),
  );

  app.post(
    '/notifications/mark-all-as-read/',
    {
      preHandler: app.auth.required,
      schema: { tags, security, summary: 'Mark all your notifications as read', response: { 200: MarkAllResult, ...errorResponses(401) } },
    },
    async (request) => ({ updated: await service.markAllAsRead(app.db, currentUser(request).id) }),
  );

  app.delete(
    '/notifications/:id/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        summary: 'Delete one of your notifications',
        description: "Another user's notification answers 404.",
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 404) },
      },
    },
    async (request, reply) => {
      await service.deleteNotification(app.db, currentUser(request).id, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/notifications/stream-ticket/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        summary: 'Get a ticket that opens your notification stream',
        description:
          "Browsers' EventSource cannot send an Authorization header: pass this ticket as `?ticket=` instead. " +
          `It is valid for ${service.STREAM_TICKET_TTL_SECONDS} seconds and works once; to reconnect, get a new one and ` +
          'pass the last received event id as `?last_event_id=`.',
        response: { 201: StreamTicket, ...errorResponses(401) },
      },
    },
    async (request, reply) => {
      const { ticket, expiresAt } = await service.issueStreamTicket(app.db, currentUser(request).id, app.clock.now());
      return reply.code(201).send({ ticket, expires_at: expiresAt.toISOString() });
    },
  );

  /** A `?ticket=` authenticates the stream by itself; otherwise the usual Bearer header is required. */
  async function streamAuth(request: FastifyRequest) {
    const { ticket } = request.query as { ticket?: string };
    if (!ticket) return app.auth.required(request);
    const userId = await service.redeemStreamTicket(app.db, ticket, app.clock.now());
    if (!userId) throw invalidTicket();
    // Tickets go with their user (ON DELETE CASCADE); a deactivated account loses its stream like its tokens.
    const user = await users.getUser(app.db, userId);
    if (!user.isActive) throw invalidTicket();
    request.user = { id: user.id, email: user.email, username: user.username, isOrganizer: user.isOrganizer, isStaff: user.isStaff };
  }

  app.get(
    '/notifications/stream/',
    {
      preHandler: streamAuth,
      schema: {
        tags,
        security,
        summary: 'Live stream of your new notifications (Server-Sent Events)',
        description:
          'Authenticate with the Bearer header or `?ticket=` (see POST /notifications/stream-ticket/). Each new ' +
          'notification arrives as `event: notification` with the notification as JSON in `data:` and a sortable ' +
          '`id:`; comment lines are heartbeats. Organizers (and staff, for every event) also get `event: event_activity` ' +
          'with `data: {"event": "<id>"}` when one of their events changes (registration, cancellation, promotion, ' +
          'check-in, edit): time to read its numbers again (GET /events/<id>/stats/). These carry no `id:`. Reconnect with `Last-Event-ID` (or `?last_event_id=`) to receive ' +
          'what you missed first. One user may hold `MAX_STREAMS_PER_USER` streams (default 5) open on one server ' +
          'process; one more is refused with 429 `too_many_streams`.',
        querystring: StreamQuery,
        response: {
          200: {
            description: 'text/event-stream: `id: <ms>-<uuid>`, `event: notification`, `data: <Notification JSON>`.',
            content: { 'text/event-stream': { schema: Type.String() } },
          },
          ...errorResponses(400, 401, 429),
        },
      },
    },
    async (request, reply) => {
      // HEAD gets the headers a stream would start with, and no stream: nothing would ever be read from it.
      if (request.method === 'HEAD') {
        return reply.code(200).header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-cache').send();
      }
      const header = request.headers['last-event-id'];
      const lastEventId = (Array.isArray(header) ? header[0] : header) ?? request.query.last_event_id;
      const user = currentUser(request);
      await serveNotificationStream(request, reply, {
        db: app.db,
        hub,
        userId: user.id,
        activity: user.isOrganizer || user.isStaff ? { allEvents: user.isStaff } : undefined,
        resumeFrom: parseStreamEventId(lastEventId),
        openedAt: app.clock.now(),
        heartbeatMs: app.config.streamHeartbeatMs,
        log: request.log,
      });
      return reply;
    },
  );
};

// Not encapsulated, so the hub (decorated on the app) is reachable from the root instance and from tests.
export default fp(notificationRoutes, { name: 'notifications' });
