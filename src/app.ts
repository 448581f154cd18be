import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import { SerializerSelector, type SerializerFactory } from '@fastify/fast-json-stringify-compiler';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Config } from './config.js';
import type { Database, Db } from './db/client.js';
import { systemClock, type Clock } from './lib/clock.js';
import { ApiError } from './lib/errors.js';
import { strictValidation } from './lib/validation.js';
import { ErrorDetail, FieldErrors } from './lib/schemas.js';
import { LinkSigner } from './lib/signed-tokens.js';
import { API_VERSION } from './lib/version.js';
import { PasswordResetThrottle } from './modules/auth/account-mail.service.js';
import { KeyThrottle, LoginThrottle, signupThrottle } from './modules/auth/auth.service.js';
import authRoutes from './modules/auth/auth.routes.js';
import adminRoutes from './modules/admin/admin.routes.js';
import categoriesRoutes from './modules/categories/categories.routes.js';
import eventsRoutes from './modules/events/events.routes.js';
import feedbackRoutes from './modules/feedbacks/feedbacks.routes.js';
import mailRoutes from './modules/mail/mail.routes.js';
import notificationRoutes from './modules/notifications/notifications.routes.js';
import { TokenService } from './modules/auth/tokens.js';
import registrationsRoutes from './modules/registrations/registrations.routes.js';
import ticketsRoutes from './modules/tickets/tickets.routes.js';
import webhookRoutes from './modules/webhooks/webhooks.routes.js';
import authPlugin from './plugins/auth.js';
import benchRoutes from './plugins/bench-routes.js';
import securityHeaders from './plugins/security-headers.js';
import errorsPlugin from './plugins/errors.js';
import httpCachePlugin from './plugins/http-cache.js';
import idempotencyPlugin from './plugins/idempotency.js';
import openApiPlugin from './plugins/openapi.js';
import publicCachePlugin from './plugins/public-cache.js';
import webAppPlugin from './plugins/web-app.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    database: Database;
    db: Db;
    clock: Clock;
    tokens: TokenService;
    loginThrottle: LoginThrottle;
    signupThrottle: KeyThrottle;
    passwordResetThrottle: PasswordResetThrottle;
    /** Signs the links in mails (unsubscribe, verification) and derives reset tokens. */
    linkSigner: LinkSigner;
    /** preHandler after auth.required: 403 `email_not_verified` when REQUIRE_EMAIL_VERIFICATION is on. */
    requireVerifiedEmail: (request: FastifyRequest) => Promise<void>;
  }
}

export interface AppOptions {
  config: Config;
  database: Database;
  clock?: Clock;
}

const trustHops = (hops: number) => (_address: string, hop: number) => hop < hops;

/**
 * Fastify's own response serializers (fast-json-stringify), each compiled when its route first answers with that
 * status rather than all at start: compiling the hundreds of route × status schemas was about a tenth of a cold start
 * (issue 18: `npm start` ready within 3 s). The output is the same function's.
 */
function serializersCompiledOnFirstUse(factory: SerializerFactory): SerializerFactory {
  return (externalSchemas, options) => {
    const compile = factory(externalSchemas, options);
    return (route) => {
      let serialize: ((doc: unknown) => string) | undefined;
      return (doc) => (serialize ??= compile(route))(doc);
    };
  };
}

export { API_VERSION };

/** Builds the whole API on an open database. Used by server.ts, by the tests and by the OpenAPI exporter. */
export async function buildApp({ config, database, clock = systemClock }: AppOptions): Promise<FastifyInstance> {
  if (!config.jwtSecret) throw new Error('buildApp needs config.jwtSecret');
  const app = Fastify({
    logger: {
      level: config.logLevel,
      ...(config.logFormat === 'pretty'
        ? { transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } }
        : {}),
    },
    // Fastify takes a hop count too, but its types do not say so: as a function it is the same rule.
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
    bodyLimit: config.bodyLimitBytes,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.requestTimeoutMs,
    // A client that trickles its headers or body (slowloris) is cut off once these expire. Node checks the
    // deadlines every connectionsCheckingInterval (30 s by default), so check often enough to honour them.
    http: {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(5_000, Math.floor(config.headersTimeoutMs / 4))),
    },
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    routerOptions: { ignoreTrailingSlash: true },
    // Errors the router raises before any route runs: a malformed (%-encoding) or over-long path segment names
    // no object, so it answers like a non-uuid id does (404), in the API's error shape.
    frameworkErrors: (error, _request, reply: FastifyReply) => {
      if (error.code === 'FST_ERR_BAD_URL' || error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
        void reply.code(404).send({ detail: 'Not found.', code: 'not_found' });
        return;
      }
      void reply.code(400).send({ detail: 'Bad request.', code: 'bad_request' });
    },
    // strictValidation: no non-finite number ("Infinity", "1e309" coerce to one), and only uuids and date-times
    // that PostgreSQL can store.
    ajv: { customOptions: { allErrors: true, strictNumbers: true }, plugins: [strictValidation] },
    schemaController: { compilersFactory: { buildSerializer: serializersCompiledOnFirstUse(SerializerSelector()) } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('config', config);
  app.decorate('database', database);
  app.decorate('db', database.db);
  app.decorate('clock', clock);
  app.decorate('tokens', new TokenService(config.jwtSecret, config.accessTokenTtlSeconds, config.refreshTokenTtlSeconds));
  app.decorate('loginThrottle', new LoginThrottle(config, database.pool));
  app.decorate('signupThrottle', signupThrottle(config, database.pool));
  app.decorate('passwordResetThrottle', new PasswordResetThrottle(config, database.pool));
  app.decorate('linkSigner', new LinkSigner(config.jwtSecret));
  app.decorate('requireVerifiedEmail', async (request: FastifyRequest) => {
    if (config.requireEmailVerification && request.user && !request.user.emailVerified) {
      throw new ApiError(403, 'Confirm your email address first: open the link mailed to you.', 'email_not_verified');
    }
  });

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  // Only JSON bodies are accepted; other media types answer 415 rather than reaching validation as strings.
  app.removeContentTypeParser('text/plain');

  app.addSchema(ErrorDetail);
  app.addSchema(FieldErrors);
  await app.register(errorsPlugin);
  await app.register(securityHeaders);
  await app.register(cors, { origin: config.corsOrigins.length ? config.corsOrigins : false, credentials: false });
  // After helmet and CORS: a cached answer still carries their headers.
  await app.register(publicCachePlugin);
  // After the page cache: it hands over each page's ETag and remaining lifetime; Cache-Control, Vary and 304s here.
  await app.register(httpCachePlugin);
  await app.register(openApiPlugin, { version: API_VERSION });
  await app.register(authPlugin, { tokens: app.tokens });
  await app.register(idempotencyPlugin);

  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        summary: 'The process is up',
        description: '`pid` identifies the worker process that answered (several serve when WEB_CONCURRENCY > 1).',
        response: { 200: Type.Object({ status: Type.String(), pid: Type.Integer() }) },
      },
    },
    async () => ({ status: 'ok', pid: process.pid }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'The database is reachable',
        response: { 200: Type.Object({ status: Type.String() }), 503: Type.Object({ status: Type.String(), detail: Type.String() }) },
      },
    },
    async (request, reply) => {
      try {
        await database.ping();
        return { status: 'ok' };
      } catch (err) {
        request.log.warn({ err }, 'readiness check failed');
        return reply.code(503).send({ status: 'unavailable', detail: 'Database unreachable.' });
      }
    },
  );

  await app.register(authRoutes);
  await app.register(adminRoutes);
  await app.register(categoriesRoutes);
  await app.register(eventsRoutes);
  await app.register(feedbackRoutes);
  await app.register(notificationRoutes);
  await app.register(mailRoutes);
  await app.register(registrationsRoutes);
  await app.register(ticketsRoutes);
  await app.register(webhookRoutes);
  if (config.benchRoutes) await app.register(benchRoutes);
  // The browser app under /app/ (and `/` sends browsers there); its own CSP and cache headers stay inside it.
  await app.register(webAppPlugin);

  return app;
}
