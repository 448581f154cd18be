import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { LRUCache } from 'lru-cache';
import { entityTag, sharedCacheControl } from '../lib/http-caching.js';
import { linkBase } from '../lib/public-url.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Anonymous GETs of this route may be answered from memory for PUBLIC_CACHE_SECONDS (see public-cache.ts). */
    publicCache?: boolean;
  }
}

interface CachedResponse {
  body: string;
  contentType: string;
  /** Computed once when the page is built; every hit sends it (see http-cache.ts for the 304). */
  etag: string;
}

/**
 * Micro-cache for public pages: a hot event page or listing is read thousands of times a second and changes far
 * less often. Only anonymous requests are cached (no Authorization header), so nothing that depends on who asks
 * is ever shared; only 200 answers; keyed by the full URL, query string included, and the base of the links the
 * page holds (see linkBase: never a Host the client made up). Any successful write through
 * this process empties the cache, so a client sees its own change at once; writes through other processes show
 * within the TTL plus one rebuild. Seat counts shown may lag by that much; the seats themselves are only ever decided under the
 * event's row lock.
 */
/**
 * How long past its lifetime a page may still be answered while its successor is built in the background. A
 * page older than lifetime + grace is never answered: the request builds (or waits for) a fresh one instead, so
 * after a quiet spell nobody gets a page of any age.
 */
export const STALE_GRACE_MS = 1_000;
/** How long a request waits for another one already building the same page before building it itself. */
const FOLLOW_TIMEOUT_MS = 5_000;
const REFRESH_HEADER = 'x-public-cache-refresh';
const MAX_CACHE_BYTES = 32 * 1024 * 1024;

export default fp(async function publicCachePlugin(app: FastifyInstance) {
  const ttlSeconds = app.config.publicCacheSeconds;
  if (ttlSeconds <= 0) return;
  const cache = new LRUCache<string, CachedResponse>({
    max: 5_000,
    // Bounded by bytes too: anyone can ask for many distinct URLs (a 100-event page is ~60 KB).
    maxSize: MAX_CACHE_BYTES,
    sizeCalculation: (page) => Math.max(1, page.body.length),
    ttl: ttlSeconds * 1000,
    ttlResolution: 0,
    // An expired page stays until replaced, to be served while one request builds its successor.
    allowStale: true,
    noDeleteOnStaleGet: true,
    perf: { now: () => app.clock.now().getTime() },
  });
  /**
   * Pages being built right now, by URL. A page that has expired is still answered from its old copy while one
   * background request rebuilds it (stale-while-revalidate); a page not in the cache at all is built by the first
   * request while the others wait for it. A thousand requests a second on one page cost one query per TTL, and no
   * client waits for a rebuild once the page is warm.
   */
  const building = new Map<string, { done: Promise<CachedResponse | undefined>; finish: (page?: CachedResponse) => void }>();
  // Bumped by every write: a page built before a write finished is not stored after it.
  let generation = 0;
  const leaders = new WeakMap<FastifyRequest, { url: string; generation: number; page?: CachedResponse }>();

  const cacheKey = (request: FastifyRequest) => `${linkBase(request)} ${request.url}`;
  const cacheable = (request: FastifyRequest) =>
    request.method === 'GET' && request.routeOptions.config.publicCache === true && !request.headers.authorization;
  /** `freshForMs`: the lifetime the page has left (negative once expired), so caches in front hold it no longer. */
  const send = (reply: FastifyReply, page: CachedResponse, freshForMs?: number) => {
    if (freshForMs !== undefined) reply.header('cache-control', sharedCacheControl(freshForMs, STALE_GRACE_MS));
    return reply.header('content-type', page.contentType).header('etag', page.etag).header('x-cache', 'hit').send(page.body);
  };

  // The background rebuild is an ordinary request through the whole app, marked with a per-process secret so that
  // no client can force rebuilds by sending the header.
  const refreshToken = randomBytes(16).toString('hex');
  const startBuilding = (url: string) => {
    let finish!: (page?: CachedResponse) => void;
    const done = new Promise<CachedResponse | undefined>((resolve) => (finish = resolve));
    const entry = { done, finish };
    building.set(url, entry);
    return entry;
  };
  // The rebuild asks with the Host of the request it stands in for, so its links and its cache key come out the same
  // (behind a proxy, set PUBLIC_URL: links and keys then never depend on the request).
  const refreshInBackground = (request: FastifyRequest, url: string) => {
    const entry = startBuilding(url);
    void app
      .inject({ method: 'GET', url: request.url, headers: { host: request.headers.host ?? 'localhost', [REFRESH_HEADER]: refreshToken } })
      .catch((err: unknown) => app.log.warn({ err, url }, 'public cache refresh failed'))
      .finally(() => {
        // Normally released when the rebuild's response is sent; this covers a rebuild that never got that far.
        if (building.get(url) === entry) {
          building.delete(url);
          entry.finish();
        }
      });
  };

  app.addHook('onRequest', async (request, reply) => {
    if (!cacheable(request)) return;
    const url = cacheKey(request);
    if (request.headers[REFRESH_HEADER] === refreshToken) {
      leaders.set(request, { url, generation });
      return;
    }
    const page = cache.get(url);
    const remaining = page ? cache.getRemainingTTL(url) : 0;
    if (page && remaining > -STALE_GRACE_MS) {
      // Expired: answered from the old copy all the same, while one background request builds the new one.
      if (remaining <= 0 && !building.has(url)) refreshInBackground(request, url);
      return send(reply, page, remaining);
    }
    const inProgress = building.get(url);
    if (inProgress) {
      const built = await Promise.race([inProgress.done, delay(FOLLOW_TIMEOUT_MS, undefined, { ref: false })]);
      if (built) return send(reply, built);
      return; // the leader failed or is slow: build it too, without leading
    }
    startBuilding(url);
    leaders.set(request, { url, generation });
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const lead = leaders.get(request);
    if (lead && reply.statusCode === 200 && typeof payload === 'string') {
      lead.page = { body: payload, contentType: String(reply.getHeader('content-type')), etag: entityTag(payload) };
      reply.header('etag', lead.page.etag);
      if (lead.generation === generation) cache.set(lead.url, lead.page);
    } else if (lead && lead.generation === generation) {
      cache.delete(lead.url); // gone (404) or failing now: the old copy must not be served on
    }
    return payload;
  });

  const release = (request: FastifyRequest) => {
    const lead = leaders.get(request);
    if (!lead) return;
    leaders.delete(request);
    building.get(lead.url)?.finish(lead.page);
    building.delete(lead.url);
  };

  app.addHook('onResponse', async (request, reply) => {
    release(request);
    const write = request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'OPTIONS';
    if (write && reply.statusCode < 400) {
      generation++;
      cache.clear();
    }
  });
  app.addHook('onRequestAbort', async (request) => release(request));
});
