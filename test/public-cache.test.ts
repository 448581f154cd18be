import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events } from '../src/db/schema.js';
import { buildTestApp, type TestContext } from './helpers/app.js';
import { authHeader, createEvent, createOrganizer, type TestUser } from './helpers/factories.js';

// Two app instances on one database stand for two worker processes, each with its own cache.
let first: TestContext;
let second: TestContext;
let organizer: TestUser;
beforeAll(async () => {
  first = await buildTestApp({ env: { PUBLIC_CACHE_SECONDS: '1' } });
  second = await buildTestApp({ env: { PUBLIC_CACHE_SECONDS: '1' }, database: first.database, clock: first.clock });
  organizer = await createOrganizer(first.app);
});
afterAll(async () => {
  await second.close();
  await first.close();
});

const title = (res: { json(): unknown }) => (res.json() as { title: string }).title;

/** Asks again (real time passes; the manual clock does not move) until the background rebuild shows `expected`. */
async function settlesOn(url: string, expected: string): Promise<boolean> {
  const deadline = Date.now() + 3_000;
  while (Date.now() < deadline) {
    const res = await first.app.inject({ url });
    if (title(res) === expected) return res.headers['x-cache'] === 'hit';
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

describe('public page cache (PUBLIC_CACHE_SECONDS)', () => {
  it('answers a repeated anonymous GET from memory, with the same body and the security headers', async () => {
    const event = await createEvent(first.app, organizer, { title: 'Cached Gala' });
    const miss = await first.app.inject({ url: `/events/${event.id}/` });
    const hit = await first.app.inject({ url: `/events/${event.id}/` });
    expect(miss.headers['x-cache']).toBeUndefined();
    expect(hit.headers['x-cache']).toBe('hit');
    expect(hit.body).toBe(miss.body);
    expect(hit.headers['content-type']).toBe(miss.headers['content-type']);
    expect(hit.headers['x-content-type-options']).toBe('nosniff');
    // The rebuild marker is a per-process secret: a client sending the header still gets the cached copy.
    const forged = await first.app.inject({ url: `/events/${event.id}/`, headers: { 'x-public-cache-refresh': 'x' } });
    expect(forged.headers['x-cache']).toBe('hit');
  });

  it("shows another worker's write once the lifetime has passed, and its own writes at once", async () => {
    const event = await createEvent(first.app, organizer, { title: 'Before' });
    const url = `/events/${event.id}/`;
    expect(title(await first.app.inject({ url }))).toBe('Before');

    const renamed = await second.app.inject({
      method: 'PATCH',
      url: `/events/${event.id}/edit/`,
      headers: authHeader(second.app, organizer.id),
      payload: { title: 'After' },
    });
    expect(renamed.statusCode).toBe(200);
    expect(title(await first.app.inject({ url }))).toBe('Before'); // the other worker's copy, still fresh
    expect(title(await second.app.inject({ url }))).toBe('After'); // the writing worker emptied its own
    first.clock.advance(1_100);
    // Expired: the old copy answers once more while a background request rebuilds the page.
    expect(title(await first.app.inject({ url }))).toBe('Before');
    expect(await settlesOn(url, 'After')).toBe(true);

    await first.app.inject({ url });
    const own = await first.app.inject({
      method: 'PATCH',
      url: `/events/${event.id}/edit/`,
      headers: authHeader(first.app, organizer.id),
      payload: { title: 'Again' },
    });
    expect(own.statusCode).toBe(200);
    expect(title(await first.app.inject({ url }))).toBe('Again');
  });

  it('never serves signed-in requests from it, and keeps each query string apart', async () => {
    const event = await createEvent(first.app, organizer, { title: 'Signed In', location: `Apart-${Date.now()}` });
    const url = `/events/${event.id}/`;
    await first.app.inject({ url });
    await first.database.db.update(events).set({ title: 'Changed Underneath' }).where(eq(events.id, event.id));
    const signedIn = await first.app.inject({ url, headers: authHeader(first.app, organizer.id) });
    expect(signedIn.headers['x-cache']).toBeUndefined();
    expect(title(signedIn)).toBe('Changed Underneath');
    expect(title(await first.app.inject({ url }))).toBe('Signed In');

    const list = (query: string) => first.app.inject({ url: `/events/?location=${event.location}${query}` });
    expect((await list('')).json().count).toBe(1);
    expect((await list('&search=nothing-matches')).json().count).toBe(0);
  });

  it('does not cache a 404: an event that becomes visible shows at once', async () => {
    const event = await createEvent(first.app, organizer, { isActive: false });
    const url = `/events/${event.id}/`;
    expect((await first.app.inject({ url })).statusCode).toBe(404);
    await first.database.db.update(events).set({ isActive: true }).where(eq(events.id, event.id));
    expect((await first.app.inject({ url })).statusCode).toBe(200);
  });

  it('builds a page once however many ask at the same moment, and serves the expired copy while it rebuilds', async () => {
    const event = await createEvent(first.app, organizer, { title: 'Rush Hour' });
    const url = `/events/${event.id}/`;
    const burst = () => Promise.all(Array.from({ length: 10 }, () => first.app.inject({ url })));

    const cold = await burst();
    expect(cold.filter((r) => r.headers['x-cache'] === undefined)).toHaveLength(1);
    expect(new Set(cold.map((r) => r.statusCode))).toEqual(new Set([200]));
    expect(new Set(cold.map((r) => title(r)))).toEqual(new Set(['Rush Hour']));

    await first.database.db.update(events).set({ title: 'Rush Hour II' }).where(eq(events.id, event.id));
    first.clock.advance(1_100);
    const expired = await burst();
    // Nobody waits for the rebuild: all are answered from the expired copy, and one rebuild runs behind them.
    expect(expired.every((r) => r.headers['x-cache'] === 'hit' && title(r) === 'Rush Hour')).toBe(true);
    expect(await settlesOn(url, 'Rush Hour II')).toBe(true);
  });

  it('drops the old copy when the rebuilt page is no longer there', async () => {
    const event = await createEvent(first.app, organizer, { title: 'Soon Cancelled' });
    const url = `/events/${event.id}/`;
    expect((await first.app.inject({ url })).statusCode).toBe(200);
    await first.database.db.update(events).set({ isActive: false }).where(eq(events.id, event.id));
    first.clock.advance(1_100);
    expect((await first.app.inject({ url })).statusCode).toBe(200); // the old copy, once, while it rebuilds
    const deadline = Date.now() + 3_000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      status = (await first.app.inject({ url })).statusCode;
    }
    expect(status).toBe(404);
  });
});
