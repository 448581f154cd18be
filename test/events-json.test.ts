import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { events as eventsTable } from '../src/db/schema.js';
import { RowVersionCache } from '../src/db/row-version-cache.js';
import { toEventResponse } from '../src/modules/events/events.present.js';
import * as repo from '../src/modules/events/events.repository.js';
import { orderings as orderingNames } from '../src/modules/events/events.schemas.js';
import { buildTestApp, type TestContext } from './helpers/app.js';
import { createCategory, createEvent, createOrganizer, createUser, registerFor } from './helpers/factories.js';

// The event JSON PostgreSQL writes (lists and the event page) must equal toEventResponse's, field for field.
let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp();
});
afterAll(async () => {
  await ctx.close();
});

describe('event JSON written by PostgreSQL', () => {
  it('equals toEventResponse for every kind of event, on the list and on the event page', async () => {
    const organizer = await createOrganizer(ctx.app);
    const category = await createCategory(ctx.app);
    const at = (iso: string) => new Date(iso);
    const specs = [
      { title: 'Plain' },
      { title: 'Milliseconds', dateTime: at('2031-05-06T07:08:09.123Z'), createdAt: at('2029-12-31T23:59:59.999Z') },
      { title: 'With end', dateTime: at('2031-01-01T10:00:00Z'), endTime: at('2031-01-01T12:30:00.5Z'), categoryId: category.id },
      { title: 'Sold out', capacity: 3, registeredCount: 3, waitlistCount: 2, sellsOffSoonThreshold: 1 },
      { title: 'Selling out soon', capacity: 10, registeredCount: 8, sellsOffSoonThreshold: 2 },
      { title: 'Threshold off', capacity: 10, registeredCount: 9, sellsOffSoonThreshold: 0 },
      { title: 'Rated 3.5', ratingSum: 7, ratingCount: 2 },
      { title: 'Rated 4.3', ratingSum: 13, ratingCount: 3 },
      { title: 'Rated 2.25 rounds up', ratingSum: 9, ratingCount: 4 },
      { title: 'Rated 5', ratingSum: 5, ratingCount: 1, isRecurring: true },
      { title: 'Quotes "and" \\ backslash, émoji 🎟 and a\nline break', description: 'Tab\there, <b>tags</b>, \u2028' },
      { title: 'Unpublished', isActive: false },
      { title: 'Cancelled', isActive: false, cancelledAt: at('2029-12-01T00:00:00Z') },
    ];
    const rows = [];
    for (const spec of specs) rows.push(await createEvent(ctx.app, organizer, spec));
    const expected = new Map(rows.map((row) => [row.id, toEventResponse(row)]));

    // The event page, as its organizer (who also sees the unpublished and cancelled ones).
    for (const row of rows) {
      const res = await ctx.app.inject({ method: 'GET', url: `/events/${row.id}/`, headers: organizer.auth });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.json()).toEqual(expected.get(row.id));
    }
    // The list (published ones), anonymous and signed in.
    const stranger = await createUser(ctx.app);
    for (const headers of [{}, stranger.auth]) {
      const res = await ctx.app.inject({ method: 'GET', url: `/events/?organizer=${organizer.id}&page_size=100`, headers });
      expect(res.statusCode).toBe(200);
      const page = res.json<{ count: number; results: Array<{ id: string }> }>();
      const published = rows.filter((row) => row.isActive);
      expect(page.count).toBe(published.length);
      expect(page.results).toHaveLength(published.length);
      for (const item of page.results) expect(item).toEqual(expected.get(item.id));
    }
    // Kept by PostgreSQL as the row changes: a registration (counters) and an edit (title, times).
    const plain = rows[0]!;
    const registered = await ctx.app.inject({
      method: 'POST',
      url: '/registrations/',
      headers: stranger.auth,
      payload: { event: plain.id, quantity: 2 },
    });
    expect(registered.statusCode).toBe(201);
    const edited = await ctx.app.inject({
      method: 'PATCH',
      url: `/events/${plain.id}/edit/`,
      headers: organizer.auth,
      payload: { title: 'Plain, renamed', end_time: '2031-06-01T00:00:00.250Z', date_time: '2031-05-31T23:00:00Z' },
    });
    expect(edited.statusCode).toBe(200);
    const [fresh] = await ctx.app.db.select().from(eventsTable).where(eq(eventsTable.id, plain.id));
    const page = await ctx.app.inject({ method: 'GET', url: `/events/${plain.id}/`, headers: stranger.auth });
    expect(page.json()).toEqual(toEventResponse(fresh!));
    expect(page.json()).toMatchObject({ title: 'Plain, renamed', registered_count: 2, tickets_remaining: 48 });
    expect(edited.json()).toEqual(page.json());

    // Unpublished and cancelled events stay hidden from others on the event page.
    for (const row of rows.filter((r) => !r.isActive)) {
      expect((await ctx.app.inject({ method: 'GET', url: `/events/${row.id}/`, headers: stranger.auth })).statusCode).toBe(404);
    }
  });

  it("lists in each ordering's order (ties broken by id), for every ordering and across pages", async () => {
    const organizer = await createOrganizer(ctx.app);
    const base = ctx.clock.now().getTime();
    const created: Array<{ id: string; title: string; dateTime: number; createdAt: number; remaining: number }> = [];
    for (let i = 0; i < 9; i++) {
      const row = await createEvent(ctx.app, organizer, {
        // Ties on every sort key but the id, some of them.
        title: ['Beta', 'Alpha', 'Gamma'][i % 3]!,
        dateTime: new Date(base + (1 + (i % 4)) * 86_400_000),
        createdAt: new Date(base - (i % 2) * 1000),
        capacity: 10,
      });
      await ctx.app.db
        .update(eventsTable)
        .set({ registeredCount: i % 5 })
        .where(eq(eventsTable.id, row.id));
      created.push({
        id: row.id,
        title: row.title,
        dateTime: row.dateTime.getTime(),
        createdAt: row.createdAt.getTime(),
        remaining: 10 - (i % 5),
      });
    }
    // Each ordering's keys, as the API documents them; the id (compared as PostgreSQL compares uuids) breaks ties.
    type Key = (e: (typeof created)[number]) => number | string;
    const keys: Record<(typeof orderingNames)[number], Array<[Key, 1 | -1]>> = {
      date_time: [
        [(e) => e.dateTime, 1],
        [(e) => e.id, 1],
      ],
      '-date_time': [
        [(e) => e.dateTime, -1],
        [(e) => e.id, -1],
      ],
      created_at: [
        [(e) => e.createdAt, 1],
        [(e) => e.id, 1],
      ],
      '-created_at': [
        [(e) => e.createdAt, -1],
        [(e) => e.id, -1],
      ],
      title: [
        [(e) => e.title, 1],
        [(e) => e.dateTime, 1],
        [(e) => e.id, 1],
      ],
      tickets_remaining: [
        [(e) => e.remaining, 1],
        [(e) => e.dateTime, 1],
        [(e) => e.id, 1],
      ],
    };
    const sorted = (ordering: (typeof orderingNames)[number]) =>
      [...created].sort((a, b) => {
        for (const [key, dir] of keys[ordering]) {
          const [x, y] = [key(a), key(b)];
          if (x !== y) return (x < y ? -1 : 1) * dir;
        }
        return 0;
      });
    const filter = { organizerId: organizer.id, activeOnly: true };
    for (const ordering of orderingNames) {
      for (const [limit, offset] of [
        [100, 0],
        [4, 0],
        [4, 4],
        [4, 8],
        [4, 12],
      ] as const) {
        const json = await repo.listEventsJson(ctx.app.db, filter, ordering, limit, offset);
        expect(json.total, ordering).toBe(9);
        expect(
          (JSON.parse(json.resultsJson) as Array<{ id: string }>).map((e) => e.id),
          `${ordering} ${limit}/${offset}`,
        ).toEqual(
          sorted(ordering)
            .slice(offset, offset + limit)
            .map((e) => e.id),
        );
      }
    }
  });

  it('lists never show a remembered JSON for an older version of an event, however it was changed', async () => {
    const organizer = await createOrganizer(ctx.app);
    const row = await createEvent(ctx.app, organizer, { title: 'Versioned', capacity: 10 });
    const filter = { organizerId: organizer.id, activeOnly: true };
    const listed = async () =>
      (JSON.parse((await repo.listEventsJson(ctx.app.db, filter, 'date_time', 10, 0)).resultsJson) as Array<Record<string, unknown>>)[0];
    expect(await listed()).toMatchObject({ title: 'Versioned', registered_count: 0 });
    // Through the API, and behind the application's back in plain SQL: the next list shows each change at once.
    const user = await createUser(ctx.app);
    expect((await registerFor(ctx.app, user, row.id, 3)).statusCode).toBe(201);
    expect(await listed()).toMatchObject({ title: 'Versioned', registered_count: 3, tickets_remaining: 7 });
    await ctx.app.db.update(eventsTable).set({ title: 'Renamed in SQL' }).where(eq(eventsTable.id, row.id));
    expect(await listed()).toMatchObject({ title: 'Renamed in SQL', registered_count: 3 });
    // The same version twice: the JSON is served as remembered, equal to what PostgreSQL stores.
    const [stored] = await ctx.app.db.select().from(eventsTable).where(eq(eventsTable.id, row.id));
    expect(await listed()).toEqual(toEventResponse(stored!));
  });
});

describe('RowVersionCache', () => {
  const db = {} as never;
  const row = (id: string, version: string) => ({ id, version, json: `{"id":"${id}","v":${version}}` });

  it('reads only the versions it does not hold, and keeps the list order', async () => {
    const cache = new RowVersionCache(10, 60_000);
    const asked: string[][] = [];
    const fetch = async (ids: string[]) => {
      asked.push(ids);
      return ids.map((id) => row(id, '1')).reverse();
    };
    const listed = [
      { id: 'a', version: '1' },
      { id: 'b', version: '1' },
    ];
    expect(await cache.resolve(db, listed, fetch)).toEqual([row('a', '1').json, row('b', '1').json]);
    expect(await cache.resolve(db, [...listed].reverse(), fetch)).toEqual([row('b', '1').json, row('a', '1').json]);
    expect(asked).toEqual([['a', 'b']]);
    // A new version of b is read again; a is still remembered.
    const newer = async (ids: string[]) => {
      asked.push(ids);
      return ids.map((id) => row(id, '2'));
    };
    expect(
      await cache.resolve(
        db,
        [
          { id: 'a', version: '1' },
          { id: 'b', version: '2' },
        ],
        newer,
      ),
    ).toEqual([row('a', '1').json, row('b', '2').json]);
    expect(asked.at(-1)).toEqual(['b']);
  });

  it('reads a row again once its JSON is older than the lifetime, whatever its version', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const cache = new RowVersionCache(10, 60_000);
      let reads = 0;
      const fetch = async (ids: string[]) => {
        reads++;
        return ids.map((id) => row(id, '1'));
      };
      const listed = [{ id: 'a', version: '1' }];
      await cache.resolve(db, listed, fetch);
      vi.advanceTimersByTime(59_999);
      await cache.resolve(db, listed, fetch);
      expect(reads).toBe(1);
      vi.advanceTimersByTime(1);
      expect(await cache.resolve(db, listed, fetch)).toEqual([row('a', '1').json]);
      expect(reads).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('gives up when a row changed or vanished between the list and the read, so the caller reads the page in one statement', async () => {
    const cache = new RowVersionCache(10, 60_000);
    expect(await cache.resolve(db, [{ id: 'a', version: '1' }], async (ids) => ids.map((id) => row(id, '2')))).toBeUndefined();
    expect(await cache.resolve(db, [{ id: 'a', version: '1' }], async () => [])).toBeUndefined();
    // What it read is still right for its own version.
    expect(
      await cache.resolve(db, [{ id: 'a', version: '2' }], async () => {
        throw new Error('should not read');
      }),
    ).toEqual([row('a', '2').json]);
  });
  it('answers a page again from the text it assembled for the same ids and versions, and only for those', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      // Room for one row: a page of two can only be answered without a read if the page itself was kept.
      const cache = new RowVersionCache(1, 60_000, 1_000);
      const asked: string[][] = [];
      let version = '1';
      const fetch = async (ids: string[]) => {
        asked.push(ids);
        return ids.map((id) => row(id, id === 'b' ? version : '1'));
      };
      const page = `[${row('a', '1').json},${row('b', '1').json}]`;
      expect(await cache.resolveArray(db, 'a 1,b 1', fetch)).toBe(page);
      expect(await cache.resolveArray(db, 'a 1,b 1', fetch)).toBe(page);
      expect(asked).toEqual([['a', 'b']]);
      // Another order is another page.
      expect(await cache.resolveArray(db, 'b 1,a 1', fetch)).toBe(`[${row('b', '1').json},${row('a', '1').json}]`);
      expect(asked).toHaveLength(2);
      // b's new version: a new page, with b read again.
      version = '2';
      expect(await cache.resolveArray(db, 'a 1,b 2', fetch)).toBe(`[${row('a', '1').json},${row('b', '2').json}]`);
      expect(asked.at(-1)).toContain('b');
      expect(await cache.resolveArray(db, '', fetch)).toBe('[]');
      // Past the lifetime the page is assembled again from rows read again.
      vi.advanceTimersByTime(60_000);
      let rereads = 0;
      const reread = async (ids: string[]) => {
        rereads++;
        return ids.map((id) => row(id, '1'));
      };
      expect(await cache.resolveArray(db, 'a 1,b 1', reread)).toBe(page);
      expect(rereads).toBe(1);
      // A page bigger than the bound is answered but not kept: the next time, its rows are needed again.
      const small = new RowVersionCache(1, 60_000, 10);
      let smallReads = 0;
      const counting = async (ids: string[]) => {
        smallReads++;
        return ids.map((id) => row(id, '1'));
      };
      await small.resolveArray(db, 'a 1,b 1', counting);
      expect(await small.resolveArray(db, 'a 1,b 1', counting)).toBe(page);
      expect(smallReads).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
