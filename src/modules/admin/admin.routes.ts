import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Paginated, pageWindow, paginated, paginatedBody } from '../../lib/pagination.js';
import { IdParams, errorResponses } from '../../lib/schemas.js';
import { currentUser } from '../../plugins/auth.js';
import { toUserResponse } from '../auth/auth.routes.js';
import { listAuditLog, type AuditFilter, type AuditRow } from '../audit/audit.service.js';
import { toEventResponse } from '../events/events.present.js';
import { Event } from '../events/events.schemas.js';
import * as events from '../events/events.service.js';
import { toFeedbackResponse } from '../feedbacks/feedbacks.schemas.js';
import { listForModeration } from '../feedbacks/feedbacks.service.js';
import { User } from '../auth/auth.schemas.js';
import { changeAccess, searchUsers } from '../users/users.service.js';
import {
  AdminEventListQuery,
  AuditEntry,
  AuditQuery,
  IntegrityResult,
  ModerationFeedback,
  ModerationQuery,
  SystemStatus,
  UserAccessBody,
  UserDetail,
  UserSearchQuery,
} from './admin.schemas.js';
import * as admin from './admin.service.js';

const tags = ['admin'];
const security = [{ bearerAuth: [] }];
const DAY_MS = 24 * 3600 * 1000;

const toAuditResponse = (row: AuditRow) => ({
  id: row.id,
  actor: row.actorId,
  actor_email: row.actorEmail,
  action: row.action,
  target_type: row.targetType,
  target_id: row.targetId,
  before: row.before ?? null,
  after: row.after ?? null,
  created_at: row.createdAt.toISOString(),
});

function auditFilter(query: AuditQuery): AuditFilter {
  const filter: AuditFilter = { actorId: query.actor, action: query.action, targetType: query.target_type, targetId: query.target };
  if (query.date_from !== undefined) filter.from = events.parseDateFilter('date_from', query.date_from).at;
  if (query.date_to !== undefined) {
    const { at, isDay } = events.parseDateFilter('date_to', query.date_to);
    filter.toExclusive = new Date(at.getTime() + (isDay ? DAY_MS : 1));
  }
  return filter;
}

/** The staff's admin API: every route answers 401 without a token and 403 to anyone who is not staff. */
const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/admin/users/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        operationId: 'adminListUsers',
        summary: 'Find users by email or username, with role and state filters (staff only)',
        querystring: UserSearchQuery,
        response: { 200: Paginated(User), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const window = pageWindow(request.query);
      const { search, is_organizer, is_staff, is_active } = request.query;
      const filter = { search: search?.trim() || undefined, isOrganizer: is_organizer, isStaff: is_staff, isActive: is_active };
      const { rows, total } = await searchUsers(app.db, currentUser(request), filter, window.limit, window.offset);
      return paginated(request, window, total, rows.map(toUserResponse));
    },
  );

  app.get(
    '/admin/users/:id/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        operationId: 'adminGetUser',
        summary: 'One user with their registration, event and feedback counts (staff only)',
        params: IdParams,
        response: { 200: UserDetail, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => {
      const { user, counts } = await admin.userWithCounts(app.db, currentUser(request), request.params.id);
      return { ...toUserResponse(user), counts };
    },
  );

  app.patch(
    '/admin/users/:id/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        operationId: 'adminUpdateUser',
        summary: "Change a user's state and roles (staff only; audited)",
        description:
          'A deactivated user is refused at once (access and refresh tokens alike). You cannot remove your own ' +
          'staff flag or deactivate yourself, and the last active staff user never loses staff (400).',
        params: IdParams,
        body: UserAccessBody,
        response: { 200: UserDetail, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const actor = currentUser(request);
      await changeAccess(app.db, actor, request.params.id, request.body, app.clock.now());
      const { user, counts } = await admin.userWithCounts(app.db, actor, request.params.id);
      return { ...toUserResponse(user), counts };
    },
  );

  app.get(
    '/admin/events/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        operationId: 'adminListEvents',
        summary: "Every organizer's events, cancelled and past ones too (staff only)",
        description: "The public list's filters; `include_past=true` adds past events, `is_active` picks active or cancelled ones.",
        querystring: AdminEventListQuery,
        response: { 200: Paginated(Event), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const window = pageWindow(request.query);
      const { total, resultsJson } = await events.listAllEvents(app.db, currentUser(request), request.query, window, app.clock.now());
      return reply.type('application/json; charset=utf-8').send(paginatedBody(request, window, total, resultsJson));
    },
  );

  for (const [path, published] of [
    ['/admin/events/:id/deactivate/', false],
    ['/admin/events/:id/reactivate/', true],
  ] as const) {
    app.post(
      path,
      {
        preHandler: app.auth.required,
        schema: {
          tags,
          security,
          operationId: published ? 'adminReactivateEvent' : 'adminDeactivateEvent',
          summary: published ? 'Publish an unpublished event again (staff only; audited)' : 'Unpublish an event (staff only; audited)',
          description:
            'The same reversible switch as `is_active` on `PATCH /events/<id>/edit/`: an unpublished event is hidden from ' +
            'everyone but its organizer and staff and takes no registrations; its registrations are kept. A cancelled ' +
            'event (DELETE) stays cancelled: 409 `event_cancelled`.',
          params: IdParams,
          response: { 200: Event, ...errorResponses(401, 403, 404, 409) },
        },
      },
      async (request) =>
        toEventResponse(await events.setEventPublished(app.db, currentUser(request), request.params.id, published, app.clock.now())),
    );
  }

  app.get(
    '/admin/feedbacks/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        operationId: 'adminListFeedbacks',
        summary: 'Feedback across events, newest first, for moderation (staff only)',
        description: "Delete one with `DELETE /feedbacks/<id>/` (audited when staff delete another user's feedback).",
        querystring: ModerationQuery,
        response: { 200: Paginated(ModerationFeedback), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const window = pageWindow(request.query);
      const { event, user, rating } = request.query;
      const { rows, total } = await listForModeration(
        app.db,
        currentUser(request),
        { eventId: event, userId: user, rating },
        window.limit,
        window.offset,
      );
      const results = rows.map((r) => ({
        ...toFeedbackResponse(r.feedback),
        event_title: r.eventTitle,
        user_username: r.username,
        user_email: r.userEmail,
      }));
      return paginated(request, window, total, results);
    },
  );

  app.get(
    '/admin/system/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        operationId: 'adminSystemStatus',
        summary: 'Version, database kind, row counts and pending jobs (staff only)',
        response: { 200: SystemStatus, ...errorResponses(401, 403) },
      },
    },
    async (request) => admin.systemStatus(app.database, currentUser(request)),
  );

  app.post(
    '/admin/system/integrity/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        operationId: 'adminCheckIntegrity',
        summary: 'Run the integrity checker now (staff only; read-only)',
        description: 'Seat counts, tickets, ticket codes and rating totals against the rows they summarize.',
        response: { 200: IntegrityResult, ...errorResponses(401, 403) },
      },
    },
    async (request) => admin.runIntegrityCheck(app.db, currentUser(request), app.clock.now()),
  );

  app.get(
    '/admin/audit-log/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        operationId: 'adminListAuditLog',
        summary: 'What staff changed, newest first (staff only; append-only)',
        querystring: AuditQuery,
        response: { 200: Paginated(AuditEntry), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const window = pageWindow(request.query);
      const actor = currentUser(request);
      admin.assertStaff(actor);
      const { rows, total } = await listAuditLog(app.db, actor, auditFilter(request.query), window.limit, window.offset);
      return paginated(request, window, total, rows.map(toAuditResponse));
    },
  );
};

export default adminRoutes;
