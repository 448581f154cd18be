import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { LRUCache } from 'lru-cache';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Anonymous GETs of this route may be answered from memory for PUBLIC_CACHE_SECONDS (see public-cache.ts). */
    publicCache?: boolean;
  }
}

interface CachedResponse {
  body: string;
  contentType: string;
}

/**
 * Micro-cache for public pages: a hot event page or listing is read thousands of times a second and changes far
 * less often. Only anonymous requests are cached (no Authorization header), so nothing that depends on who asks
 * is ever shared; only 200 answers; keyed by the full URL, query string included. Any successful write through
 * this process empties the cache, so a client sees its own change at once; writes through other processes show
 * within the TTL. Seat counts shown may lag by that much; the seats themselves are only ever decided under the
 * event's row lock.
 */
export default fp(async function publicCachePlugin(app: FastifyInstance) {
  const ttlSeconds = app.config.publicCacheSeconds;
  if (ttlSeconds <= 0) return;
  const cache = new LRUCache<string, CachedResponse>({
    max: 5_000,
    ttl: ttlSeconds * 1000,
    ttlResolution: 0,
    perf: { now: () => app.clock.now().getTime() },
  });
  const cacheable = (request: FastifyRequest) =>
    request.method === 'GET' && request.routeOptions.config.publicCache === true && !request.headers.authorization;

  app.addHook('onRequest', async (request, reply) => {
    if (!cacheable(request)) return;
    const hit = cache.get(request.url);
    if (hit) return reply.header('content-type', hit.contentType).header('x-cache', 'hit').send(hit.body);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode === 200 && typeof payload === 'string' && cacheable(request) && !reply.getHeader('x-cache')) {
      cache.set(request.url, { body: payload, contentType: String(reply.getHeader('content-type')) });
    }
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    const write = request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'OPTIONS';
    if (write && reply.statusCode < 400) cache.clear();
  });
});
