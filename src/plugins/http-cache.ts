import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Type } from 'typebox';
import { entityTag, noneMatchHits, sharedCacheControl, withVary } from '../lib/http-caching.js';
import { STALE_GRACE_MS } from './public-cache.js';

/**
 * Standard HTTP caching headers, so that a reverse proxy or CDN in front of several servers can do what each
 * server's own page cache (public-cache.ts) does, with the same freshness promise, and browsers revalidate cheaply.
 *
 * - An anonymous GET or HEAD of a `publicCache` route that answers 200 is `public`: shared caches may keep it for
 *   PUBLIC_CACHE_SECONDS and answer it for one more second while they fetch its successor (`s-maxage`,
 *   `stale-while-revalidate`), browsers revalidate every time (`max-age=0`); with PUBLIC_CACHE_SECONDS=0 it is
 *   `no-cache` (stored, but checked with the server before every use). It carries a strong ETag of its body (the
 *   page cache computes it once per page, not per hit), and an If-None-Match naming it (or `*`) is answered 304
 *   with no body.
 * - Those routes answer differently to a signed-in request (an organizer sees their unpublished event), so they
 *   all say `Vary: Authorization`, and every answer to a request with an Authorization header is `no-store`: no
 *   cache, shared or private, keeps a signed-in answer.
 * - Everything else (per-user routes, errors, writes, token answers) is `no-store` unless the route chose its own
 *   header (the web app's files, the notification stream, the API docs' files).
 *
 * The OpenAPI document declares the 304 of every `publicCache` route (added here, so a route cannot forget it).
 *
 * Registered after public-cache.ts: its hits and freshly built pages already carry their ETag and, on a hit, the
 * lifetime they have left, and the 304 is made here after the page cache has kept the full answer.
 */
const notModified = {
  304: Type.Null({
    description: 'Not Modified: an anonymous request whose If-None-Match names the current ETag (or is `*`). No body.',
  }),
};

export default fp(async function httpCachePlugin(app: FastifyInstance) {
  const ttlMs = app.config.publicCacheSeconds * 1000;
  const freshPolicy = ttlMs > 0 ? sharedCacheControl(ttlMs, STALE_GRACE_MS) : 'no-cache';

  app.addHook('onRoute', (route) => {
    if (route.config?.publicCache !== true || !route.schema?.response) return;
    route.schema = { ...route.schema, response: { ...route.schema.response, ...notModified } };
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (request.routeOptions.config.publicCache !== true) {
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
      return payload;
    }
    const vary = reply.getHeader('vary');
    // No route sets Vary itself today; merging costs a split and a join per request (issue 18).
    reply.header('vary', vary === undefined ? 'Authorization' : withVary(vary, 'Authorization'));
    const shared =
      (request.method === 'GET' || request.method === 'HEAD') &&
      !request.headers.authorization &&
      reply.statusCode === 200 &&
      typeof payload === 'string';
    if (!shared) {
      reply.header('cache-control', 'no-store');
      return payload;
    }
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', freshPolicy);
    let etag = reply.getHeader('etag');
    if (typeof etag !== 'string') {
      etag = entityTag(payload);
      reply.header('etag', etag);
    }
    if (!noneMatchHits(request.headers['if-none-match'], etag)) return payload;
    // RFC 9110 §15.4.5: the headers a 200 would carry for caches (Cache-Control, ETag, Vary), no content.
    reply.code(304).removeHeader('content-type').removeHeader('content-length');
    // HEAD: Fastify's own last onSend measures the body (a 304 may say the 200's length) and drops it.
    return request.method === 'HEAD' ? payload : null;
  });
});
