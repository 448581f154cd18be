import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entityTag, noneMatchHits, sharedCacheControl, withVary } from '../src/lib/http-caching.js';
import { buildTestApp, type TestContext } from './helpers/app.js';
import { createCategory, createEvent, createOrganizer, createUser, insertFeedback, type TestUser } from './helpers/factories.js';

// A server whose page cache keeps pages 5 s (on the test's manual clock), and a second one on the same database
// without it (PUBLIC_CACHE_SECONDS=0), both listening on real sockets.
const TTL = 5;
let cached: TestContext;
let uncached: TestContext;
let cachedUrl: string;
let uncachedUrl: string;
let organizer: TestUser;
let attendee: TestUser;
let publicPages: string[];

async function listen(ctx: TestContext): Promise<string> {
  await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  cached = await buildTestApp({ env: { PUBLIC_CACHE_SECONDS: String(TTL) } });
  uncached = await buildTestApp({ env: { PUBLIC_CACHE_SECONDS: '0' }, database: cached.database, clock: cached.clock });
  cachedUrl = await listen(cached);
  uncachedUrl = await listen(uncached);
  organizer = await createOrganizer(cached.app);
  attendee = await createUser(cached.app);
  const category = await createCategory(cached.app);
  const event = await createEvent(cached.app, organizer, { categoryId: category.id });
  await insertFeedback(cached.app.db, { userId: attendee.id, eventId: event.id, rating: 4 });
  const feedbacks = (await (await fetch(`${cachedUrl}/feedbacks/?event=${event.id}`)).json()) as { results: { id: string }[] };
  publicPages = [
    '/events/',
    `/events/?category=${category.slug}`,
    `/events/${event.id}/`,
    '/categories/',
    `/categories/${category.id}/`,
    `/feedbacks/?event=${event.id}`,
    `/feedbacks/${feedbacks.results[0]!.id}/`,
  ];
});
afterAll(async () => {
  await uncached.close();
  await cached.close();
});

const FRESH = `public, max-age=0, s-maxage=${TTL}, stale-while-revalidate=1`;
const TAG = /^"[\w-]{27}"$/;

/** An event of its own, so that no other test's write has emptied or filled its page meanwhile. */
async function freshEventUrl() {
  return `/events/${(await createEvent(cached.app, organizer)).id}/`;
}

describe('anonymous GETs of public pages', () => {
  it('may be kept by shared caches for PUBLIC_CACHE_SECONDS (+1 s while refetching), revalidated by browsers, with an ETag and Vary: Authorization', async () => {
    for (const path of publicPages) {
      const res = await fetch(cachedUrl + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('cache-control'), path).toBe(FRESH);
      expect(res.headers.get('etag'), path).toMatch(TAG);
      expect(res.headers.get('etag'), path).toBe(entityTag(await res.text()));
      expect(res.headers.get('vary'), path).toMatch(/\bAuthorization\b/);
    }
  });

  it('from the page cache: the same ETag, and a shared cache may keep it only for the lifetime it has left', async () => {
    const path = await freshEventUrl();
    const built = await fetch(cachedUrl + path);
    cached.clock.advance(2_500);
    const hit = await fetch(cachedUrl + path);
    expect(hit.headers.get('x-cache')).toBe('hit');
    expect(hit.headers.get('etag')).toBe(built.headers.get('etag'));
    expect(hit.headers.get('cache-control')).toBe('public, max-age=0, s-maxage=2, stale-while-revalidate=1');
    // Expired, answered while its successor is built: nobody downstream may keep it at all.
    cached.clock.advance(3_000);
    const stale = await fetch(cachedUrl + path);
    expect(stale.headers.get('x-cache')).toBe('hit');
    expect(stale.headers.get('cache-control')).toBe('public, max-age=0, s-maxage=0');
    // Past lifetime + grace for every page built so far: the next request for any of them builds it afresh
    // rather than racing a background rebuild.
    cached.clock.advance(TTL * 1000 + 1_000);
  });

  it('answer 304 with no body to an If-None-Match naming the current ETag, in a list, weak, or *', async () => {
    for (const path of publicPages) {
      const first = await fetch(cachedUrl + path);
      const etag = first.headers.get('etag')!;
      for (const ifNoneMatch of [etag, `"other", ${etag}`, `W/${etag}`, '*']) {
        const res = await fetch(cachedUrl + path, { headers: { 'if-none-match': ifNoneMatch } });
        expect(res.status, `${path} ${ifNoneMatch}`).toBe(304);
        expect(await res.text()).toBe('');
        expect(res.headers.get('etag')).toBe(etag);
        expect(res.headers.get('cache-control')).toMatch(/^public, max-age=0, s-maxage=\d/);
        expect(res.headers.get('vary')).toMatch(/\bAuthorization\b/);
        expect(res.headers.get('content-type')).toBeNull();
      }
      const other = await fetch(cachedUrl + path, { headers: { 'if-none-match': '"something-else"' } });
      expect(other.status).toBe(200);
      expect(await other.text()).toBe(await first.text());
    }
  });

  it('after a write, the old ETag gets the new page with a new ETag', async () => {
    const path = await freshEventUrl();
    const before = await fetch(cachedUrl + path);
    const oldTag = before.headers.get('etag')!;
    const edit = await fetch(`${cachedUrl}${path}edit/`, {
      method: 'PATCH',
      headers: { ...organizer.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Renamed for the cache' }),
    });
    expect(edit.status).toBe(200);
    const after = await fetch(cachedUrl + path, { headers: { 'if-none-match': oldTag } });
    expect(after.status).toBe(200);
    expect(((await after.json()) as { title: string }).title).toBe('Renamed for the cache');
    expect(after.headers.get('etag')).toMatch(TAG);
    expect(after.headers.get('etag')).not.toBe(oldTag);
  });

  it('HEAD carries the same caching headers as GET, no body, and a 304 too', async () => {
    const path = await freshEventUrl();
    const get = await fetch(uncachedUrl + path);
    const head = await fetch(uncachedUrl + path, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    for (const name of ['cache-control', 'etag', 'vary']) expect(head.headers.get(name), name).toBe(get.headers.get(name));
    const conditional = await fetch(uncachedUrl + path, { method: 'HEAD', headers: { 'if-none-match': get.headers.get('etag')! } });
    expect(conditional.status).toBe(304);
  });

  it('with PUBLIC_CACHE_SECONDS=0 are no-cache (checked with the server before each use), with an ETag and 304s', async () => {
    for (const path of publicPages) {
      const res = await fetch(uncachedUrl + path);
      expect(res.headers.get('cache-control'), path).toBe('no-cache');
      expect(res.headers.get('vary'), path).toMatch(/\bAuthorization\b/);
      const etag = res.headers.get('etag')!;
      expect(etag).toBe(entityTag(await res.text()));
      const again = await fetch(uncachedUrl + path, { headers: { 'if-none-match': etag } });
      expect(again.status, path).toBe(304);
    }
  });

  it('are never stored when they fail (a 404 is no-store)', async () => {
    const res = await fetch(`${cachedUrl}/events/00000000-0000-4000-8000-000000000000/`);
    expect(res.status).toBe(404);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('etag')).toBeNull();
  });
});

describe('signed-in requests and per-user routes', () => {
  it('a public page asked with a token is no-store, varies on Authorization, and has no ETag (If-None-Match is ignored)', async () => {
    for (const base of [cachedUrl, uncachedUrl]) {
      for (const path of publicPages) {
        const anonymous = await fetch(base + path);
        const res = await fetch(base + path, { headers: { ...organizer.auth, 'if-none-match': anonymous.headers.get('etag')! } });
        expect(res.status, path).toBe(200);
        expect(res.headers.get('cache-control'), path).toBe('no-store');
        expect(res.headers.get('vary'), path).toMatch(/\bAuthorization\b/);
        expect(res.headers.get('etag'), path).toBeNull();
        expect(res.headers.get('x-cache'), path).toBeNull();
      }
    }
  });

  it('an unpublished event its organizer sees is never answered to anyone else by a cache', async () => {
    const hidden = await createEvent(cached.app, organizer, { isActive: false });
    const own = await fetch(`${cachedUrl}/events/${hidden.id}/`, { headers: organizer.auth });
    expect(own.status).toBe(200);
    expect(own.headers.get('cache-control')).toBe('no-store');
    expect((await fetch(`${cachedUrl}/events/${hidden.id}/`)).status).toBe(404);
  });

  it('per-user routes, token answers and writes are no-store', async () => {
    for (const path of ['/registrations/mine/', '/events/mine/', '/auth/me/', '/notifications/']) {
      const res = await fetch(cachedUrl + path, { headers: attendee.auth });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('cache-control'), path).toBe('no-store');
      expect(res.headers.get('etag'), path).toBeNull();
    }
    const login = await fetch(`${cachedUrl}/auth/login/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: attendee.username, password: 'Correct-Horse-42' }),
    });
    expect(login.status).toBe(200);
    expect(login.headers.get('cache-control')).toBe('no-store');
  });
});

describe('the rules (lib/http-caching.ts)', () => {
  it('If-None-Match: *, any tag of a list, weak or strong; nothing else', () => {
    const tag = entityTag('body');
    expect(noneMatchHits(undefined, tag)).toBe(false);
    expect(noneMatchHits('*', tag)).toBe(true);
    expect(noneMatchHits(tag, tag)).toBe(true);
    expect(noneMatchHits(`W/${tag}`, tag)).toBe(true);
    expect(noneMatchHits(`"a", W/"b",${tag}`, tag)).toBe(true);
    expect(noneMatchHits(`"a", "b"`, tag)).toBe(false);
    expect(noneMatchHits(entityTag('other body'), tag)).toBe(false);
    expect(noneMatchHits(tag.slice(1, -1), tag)).toBe(false); // unquoted is not an entity tag
  });

  it('a shared cache never holds a page past lifetime + grace, whatever age it reaches the cache at', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 600 }),
        fc.integer({ min: 0, max: 5_000 }),
        fc.integer({ min: 0, max: 606_000 }),
        (ttl, grace, age) => {
          fc.pre(age <= ttl * 1000 + grace);
          const header = sharedCacheControl(ttl * 1000 - age, grace);
          const sMaxAge = Number(/s-maxage=(\d+)/.exec(header)![1]);
          const swr = Number(/stale-while-revalidate=(\d+)/.exec(header)?.[1] ?? 0);
          expect(age + (sMaxAge + swr) * 1000).toBeLessThanOrEqual(ttl * 1000 + grace);
          expect(header).toMatch(/^public, max-age=0, /);
        },
      ),
    );
    expect(sharedCacheControl(5_000, 1_000)).toBe('public, max-age=0, s-maxage=5, stale-while-revalidate=1');
  });

  it('Vary: adds the field once to what is there', () => {
    expect(withVary(undefined, 'Authorization')).toBe('Authorization');
    expect(withVary('Origin', 'Authorization')).toBe('Origin, Authorization');
    expect(withVary('origin, authorization', 'Authorization')).toBe('origin, authorization');
    expect(withVary('*', 'Authorization')).toBe('*');
  });
});
