import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { TSchema } from 'typebox';
import { Paginated } from '../lib/pagination.js';
import { User, SignUpResponse, TokenPair } from '../modules/auth/auth.schemas.js';
import { Category } from '../modules/categories/categories.schemas.js';
import { Event } from '../modules/events/events.schemas.js';
import { Feedback } from '../modules/feedbacks/feedbacks.schemas.js';
import { Notification, StreamTicket, UnreadCount } from '../modules/notifications/notifications.schemas.js';
import { EventRegistration, Registration, TicketInstance } from '../modules/registrations/registrations.schemas.js';
import { TicketDetail } from '../modules/tickets/tickets.schemas.js';

/**
 * The OpenAPI document's conventions, in one place so that route files only describe their routes.
 *
 * - Every operation has a stable camelCase `operationId`, from the table below: generated clients (the web app's)
 *   name their functions after it, so renaming one is a breaking change. A route missing from the table fails
 *   the document's build (and so the test that compares it with the committed openapi.json).
 * - `security`: routes declare `security: [{ bearerAuth: [] }]` when they need a token; the others are marked
 *   public (`[]`), or token-optional (`[{}, { bearerAuth: [] }]`) when they run `app.auth.optional`.
 *   A route that runs `app.auth.required` without declaring it fails the build.
 * - Shared shapes are named components (`#/components/schemas/Event`, `EventPage`, …): the route schemas stay
 *   plain TypeBox values (so the handlers keep their static types and the JSON they send does not change), and
 *   every inline copy of a named shape in the document is replaced by a `$ref` to it.
 */
export const operationIds: Record<string, string> = {
  'GET /healthz': 'getHealth',
  'GET /readyz': 'getReadiness',

  'POST /auth/register/': 'registerUser',
  'POST /auth/login/': 'login',
  'POST /auth/token/refresh/': 'refreshToken',
  'POST /auth/logout/': 'logout',
  'GET /auth/me/': 'getProfile',
  'PUT /auth/me/': 'replaceProfile',
  'PATCH /auth/me/': 'updateProfile',
  'POST /auth/password/': 'changePassword',
  'POST /auth/password/reset/': 'requestPasswordReset',
  'POST /auth/password/reset/confirm/': 'confirmPasswordReset',
  'POST /auth/email/verify/': 'verifyEmail',
  'POST /auth/email/verify/resend/': 'resendEmailVerification',
  'GET /auth/all/': 'listUsers',

  'GET /categories/': 'listCategories',
  'POST /categories/': 'createCategory',
  'GET /categories/:id/': 'getCategory',
  'PUT /categories/:id/': 'replaceCategory',
  'PATCH /categories/:id/': 'updateCategory',
  'DELETE /categories/:id/': 'deleteCategory',

  'GET /events/': 'listEvents',
  'GET /events/mine/': 'listMyEvents',
  'POST /events/create/': 'createEvent',
  'GET /events/:id/': 'getEvent',
  'GET /events/:id/calendar.ics': 'getEventCalendar',
  'GET /events/:id/stats/': 'getEventStats',
  'PUT /events/:id/edit/': 'replaceEvent',
  'PATCH /events/:id/edit/': 'updateEvent',
  'DELETE /events/:id/edit/': 'cancelEvent',

  'GET /feedbacks/': 'listFeedbacks',
  'POST /feedbacks/': 'createFeedback',
  'GET /feedbacks/:id/': 'getFeedback',
  'PUT /feedbacks/:id/': 'replaceFeedback',
  'PATCH /feedbacks/:id/': 'updateFeedback',
  'DELETE /feedbacks/:id/': 'deleteFeedback',

  'GET /notifications/': 'listNotifications',
  'GET /notifications/unread-count/': 'getUnreadNotificationCount',
  'PATCH /notifications/:id/mark-as-read/': 'markNotificationRead',
  'POST /notifications/mark-all-as-read/': 'markAllNotificationsRead',
  'DELETE /notifications/:id/': 'deleteNotification',
  'POST /notifications/stream-ticket/': 'createStreamTicket',
  'GET /notifications/stream/': 'streamNotifications',
  'GET /notifications/preferences/': 'getMailPreferences',
  'PUT /notifications/preferences/': 'updateMailPreferences',
  'GET /notifications/unsubscribe/': 'getUnsubscribePage',
  'POST /notifications/unsubscribe/': 'unsubscribe',

  'GET /webhooks/': 'listWebhooks',
  'POST /webhooks/': 'createWebhook',
  'GET /webhooks/:id/': 'getWebhook',
  'PATCH /webhooks/:id/': 'updateWebhook',
  'DELETE /webhooks/:id/': 'deleteWebhook',
  'POST /webhooks/:id/rotate-secret/': 'rotateWebhookSecret',
  'POST /webhooks/:id/ping/': 'pingWebhook',
  'GET /webhooks/:id/deliveries/': 'listWebhookDeliveries',
  'POST /webhooks/:id/deliveries/:delivery_id/redeliver/': 'redeliverWebhook',

  'POST /registrations/': 'createRegistration',
  'GET /registrations/mine/': 'listMyRegistrations',
  'GET /registrations/:id/': 'getRegistration',
  'POST /registrations/:id/cancel/': 'cancelRegistration',
  'GET /events/:id/registrations/': 'listEventRegistrations',

  'POST /tickets/check-in/': 'checkInTicket',
  'GET /tickets/:code/': 'getTicket',
};

export const tags = [
  { name: 'auth', description: 'Sign-up, login, token refresh and logout; your profile and password.' },
  { name: 'categories', description: 'Event categories (managed by staff).' },
  { name: 'events', description: 'Browse, search and manage events.' },
  { name: 'registrations', description: 'Register for events (whole orders of seats), the waiting list, cancellations.' },
  { name: 'tickets', description: 'Ticket lookup and check-in at the door.' },
  { name: 'feedbacks', description: 'Ratings and comments after an event.' },
  { name: 'notifications', description: 'In-app notifications and their live stream.' },
  { name: 'admin', description: 'Staff only: users and roles, all events, feedback moderation, system status, the audit log.' },
  {
    name: 'webhooks',
    description: 'Signed HTTP callbacks (Standard Webhooks) to your own systems when registrations, check-ins, events and feedback change.',
  },
  { name: 'health', description: 'Liveness and readiness probes.' },
];

/**
 * Named components, inner shapes before the shapes that contain them (a Ticket is named before the Registration
 * holding it, an Event before its page), so the containers' components refer to them too.
 */
const namedSchemas: [string, TSchema][] = [
  ['User', User],
  ['SignUpResponse', SignUpResponse],
  ['TokenPair', TokenPair],
  ['Category', Category],
  ['Event', Event],
  ['Ticket', TicketInstance],
  ['Registration', Registration],
  ['EventRegistration', EventRegistration],
  ['TicketDetail', TicketDetail],
  ['Feedback', Feedback],
  ['Notification', Notification],
  ['UnreadCount', UnreadCount],
  ['StreamTicket', StreamTicket],
  ['UserPage', Paginated(User)],
  ['CategoryPage', Paginated(Category)],
  ['EventPage', Paginated(Event)],
  ['RegistrationPage', Paginated(Registration)],
  ['EventRegistrationPage', Paginated(EventRegistration)],
  ['FeedbackPage', Paginated(Feedback)],
  ['NotificationPage', Paginated(Notification)],
];

type Json = unknown;

/** Replaces, bottom-up, every sub-schema whose JSON equals a named one by a `$ref` to it. */
function refNamed(node: Json, byJson: Map<string, string>, skipRoot = false): Json {
  if (Array.isArray(node)) return node.map((item) => refNamed(item, byJson));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(node)) out[key] = refNamed(value, byJson);
  const name = skipRoot ? undefined : byJson.get(JSON.stringify(out));
  return name ? { $ref: `#/components/schemas/${name}` } : out;
}

interface OpenApiObject {
  components: { schemas?: Record<string, Json> };
  paths: Record<string, Json>;
  [key: string]: Json;
}

/**
 * The named schemas reach the document's components through swagger's own conversion (app.addSchema below), which
 * rewrites them for OpenAPI 3.0 as it rewrites the routes' copies (`nullable` for a union with null…); the copies
 * then match the components exactly and are replaced by references.
 */
function nameSharedSchemas(document: OpenApiObject): OpenApiObject {
  const schemas = { ...document.components.schemas };
  const byJson = new Map<string, string>();
  for (const [name] of namedSchemas) {
    const withRefs = refNamed(schemas[name], byJson, true);
    byJson.set(JSON.stringify(withRefs), name);
    schemas[name] = withRefs;
  }
  return { ...document, components: { ...document.components, schemas }, paths: refNamed(document.paths, byJson) as Record<string, Json> };
}

const TOKEN_OPTIONAL: { [scheme: string]: string[] }[] = [{}, { bearerAuth: [] }];

function hooksOf(route: RouteOptions): unknown[] {
  // auth.ts runs `app.auth.required` and `.optional` as onRequest hooks that name them in `declaredAs`.
  return [route.onRequest, route.preHandler]
    .flat()
    .filter((hook) => hook !== undefined)
    .map((hook) => (hook as { declaredAs?: unknown }).declaredAs ?? hook);
}

export default fp(
  async (app: FastifyInstance, options: { version: string }) => {
    for (const [name, schema] of namedSchemas) app.addSchema({ ...schema, $id: name });
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'Event Ticketing API',
          version: options.version,
          description: 'Events, multi-seat registrations with unique ticket codes, waiting lists, feedback and in-app notifications.',
          license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' },
        },
        // Relative: the document is served by the API it describes, behind whatever host and scheme.
        servers: [{ url: '/' }],
        tags,
        components: {
          securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
        },
      },
      refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
      transform: ({ schema, url, route }) => {
        if (!schema || schema.hide) return { schema, url };
        const key = `${String(route.method)} ${url}`;
        // A route may name its own operationId; the table covers the others.
        const operationId = schema.operationId ?? operationIds[key];
        if (!operationId) throw new Error(`No operationId for ${key}: add one to src/plugins/openapi.ts`);
        const hooks = hooksOf(route);
        let security = schema.security;
        if (hooks.includes(app.auth.required) && !security?.length) {
          throw new Error(`${key} requires a token but does not declare security: [{ bearerAuth: [] }]`);
        }
        security ??= hooks.includes(app.auth.optional) ? TOKEN_OPTIONAL : [];
        return { schema: { ...schema, operationId, security }, url };
      },
      transformObject: (documentObject) =>
        'openapiObject' in documentObject
          ? (nameSharedSchemas(documentObject.openapiObject as OpenApiObject) as typeof documentObject.openapiObject)
          : documentObject.swaggerObject,
    });
    await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'openapi' },
);
