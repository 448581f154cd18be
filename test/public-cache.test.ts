import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events } from '../src/db/schema.js';
import { buildTestApp, type TestContext } from './helpers/app.js';
import { createEvent } from './helpers/events-factories.js';
import { authHeader, createOrganizer, type TestUser } from './helpers/factories.js';

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
    expect(title(await first.app.inject({ url }))).toBe('After');

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
});
