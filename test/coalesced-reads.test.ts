import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { coalescedReads } from '../src/db/coalesce.js';
import { notifications } from '../src/db/schema.js';
import { buildTestApp } from './helpers/app.js';
import { createEvent, createOrganizer, createUser, insertRegistration } from './helpers/factories.js';

// Reads asked for together go to the database as one statement (src/db/coalesce.ts), and each request still gets
// exactly its own answer.
const ctx = await buildTestApp();
afterAll(async () => ctx.close());
const owner = await createOrganizer(ctx.app);
const reader = await createUser(ctx.app);

type Answer = { json<T>(): T };
/** Each GET's answer (as `shown`) sent one at a time, then all of them sent at once: they must be the same. */
async function aloneThenTogether<Shown>(asks: { url: string; headers: Record<string, string> }[], shown: (res: Answer) => Shown) {
  const get = ({ url, headers }: (typeof asks)[number]) => ctx.app.inject({ method: 'GET', url, headers });
  const alone: Shown[] = [];
  for (const ask of asks) alone.push(shown(await get(ask)));
  const together = (await Promise.all(asks.map(get))).map(shown);
  expect(together).toEqual(alone);
  return alone;
}

describe('coalescedReads', () => {
  it('reads what one turn asks for with one statement, what arrives while it runs with the next, and each caller gets its own row', async () => {
    const statements: string[][] = [];
    const titleOf = coalescedReads<string, string | undefined>(async (db, _key, ids) => {
      statements.push([...ids]);
      const result: unknown = await db.execute(
        sql`select id::text as id, title from events where id = any(${`{${ids.join(',')}}`}::uuid[])`,
      );
      const { rows } = result as { rows: { id: string; title: string }[] };
      const byId = new Map(rows.map((row) => [row.id, row.title]));
      return ids.map((id) => byId.get(id));
    });
    const created = await Promise.all(Array.from({ length: 12 }, (_, i) => createEvent(ctx.app, owner, { title: `Coalesced ${i}` })));
    const unknown = randomUUID();
    const first = [...created.map((e) => e.id), unknown].map((id) => titleOf(ctx.app.db, 'titles', id));
    // Asked a turn later, while the first statement runs: the next one.
    await new Promise((resolve) => setImmediate(resolve));
    const later = [created[3]!.id, created[3]!.id].map((id) => titleOf(ctx.app.db, 'titles', id));
    expect(await Promise.all(first)).toEqual([...created.map((e) => e.title), undefined]);
    expect(await Promise.all(later)).toEqual(['Coalesced 3', 'Coalesced 3']);
    expect(statements.map((ids) => ids.length)).toEqual([13, 2]);
  });

  it('reads each item alone when a group fails, so only the item that fails is refused', async () => {
    const groups: number[][] = [];
    const double = coalescedReads<number, number>(async (_db, _key, items) => {
      groups.push([...items]);
      if (items.includes(13)) throw new Error('thirteen');
      return items.map((n) => n * 2);
    });
    const answers = await Promise.allSettled([1, 13, 5].map((n) => double(ctx.app.db, 'numbers', n)));
    expect(answers.map((a) => (a.status === 'fulfilled' ? a.value : (a.reason as Error).message))).toEqual([2, 'thirteen', 10]);
    expect(groups).toEqual([[1, 13, 5], [1], [13], [5]]);
  });
});

describe('event pages asked for at once', () => {
  it('each request gets its own event, 404 for an unknown or hidden one, whatever the case of its id', async () => {
    const open = await Promise.all(Array.from({ length: 8 }, (_, i) => createEvent(ctx.app, owner, { title: `Page ${i}` })));
    const hidden = await createEvent(ctx.app, owner, { title: 'Unpublished page', isActive: false });
    const asks = [
      ...open.map((event) => ({ id: event.id, who: reader.auth, expected: event.title })),
      { id: open[2]!.id.toUpperCase(), who: reader.auth, expected: 'Page 2' },
      { id: open[5]!.id, who: {}, expected: 'Page 5' },
      { id: randomUUID(), who: reader.auth, expected: 404 },
      { id: hidden.id, who: reader.auth, expected: 404 },
      { id: hidden.id, who: owner.auth, expected: 'Unpublished page' },
    ];
    const answers = await Promise.all(asks.map(({ id, who }) => ctx.app.inject({ method: 'GET', url: `/events/${id}/`, headers: who })));
    expect(answers.map((res) => (res.statusCode === 200 ? res.json<{ title: string }>().title : res.statusCode))).toEqual(
      asks.map((ask) => ask.expected),
    );
  });
});

describe('lists and searches asked for at once', () => {
  const titles = (res: Answer) => res.json<{ results: { title: string }[] }>().results.map((e) => e.title);
  const at = (days: number) => new Date(ctx.clock.now().getTime() + days * 86_400_000);

  it('each gets its own list: the upcoming list asked for by several, and lists from different dates, never mixed', async () => {
    const organizer = await createOrganizer(ctx.app);
    for (const day of [1, 5, 9]) await createEvent(ctx.app, organizer, { title: `Dated ${day}`, dateTime: at(day) });
    const urls = [
      `/events/?organizer=${organizer.id}`,
      `/events/?organizer=${organizer.id}&date_from=${at(4).toISOString()}`,
      `/events/?organizer=${organizer.id}`,
      `/events/?organizer=${organizer.id}&date_from=${at(8).toISOString()}`,
      `/events/?organizer=${organizer.id}&date_from=${at(2).toISOString()}`,
    ];
    const answers = await Promise.all(urls.map((url) => ctx.app.inject({ method: 'GET', url, headers: reader.auth })));
    expect(answers.map(titles)).toEqual([
      ['Dated 1', 'Dated 5', 'Dated 9'],
      ['Dated 5', 'Dated 9'],
      ['Dated 1', 'Dated 5', 'Dated 9'],
      ['Dated 9'],
      ['Dated 5', 'Dated 9'],
    ]);
  });

  it('each search gets its own page, as it would alone', async () => {
    const organizer = await createOrganizer(ctx.app);
    const words = ['Quokka', 'Narwhal', 'Axolotl', 'Pangolin'];
    for (const [i, word] of words.entries()) {
      for (let n = 0; n <= i; n++) await createEvent(ctx.app, organizer, { title: `${word} walk ${n}`, dateTime: at(1 + n) });
    }
    const urls = [...words, 'walk', 'Quokka', 'nothinglikeit'].map((word) => `/events/?search=${word.toLowerCase()}`);
    const alone = await aloneThenTogether(
      urls.map((url) => ({ url, headers: reader.auth })),
      titles,
    );
    expect(alone.map((page) => page.length)).toEqual([1, 2, 3, 4, 10, 1, 0]);
  });
});

describe("several users' registrations asked for at once", () => {
  it("each request gets its own user's page, with its own filters, as it would alone", async () => {
    const organizer = await createOrganizer(ctx.app);
    const [ada, bob, cy] = await Promise.all([createUser(ctx.app), createUser(ctx.app), createUser(ctx.app)]);
    const day = 86_400_000;
    const soon = await createEvent(ctx.app, organizer, { title: 'Soon', dateTime: new Date(ctx.clock.now().getTime() + day) });
    const later = await createEvent(ctx.app, organizer, { title: 'Later', dateTime: new Date(ctx.clock.now().getTime() + 9 * day) });
    const past = await createEvent(ctx.app, organizer, { title: 'Past', dateTime: new Date(ctx.clock.now().getTime() - day) });
    await insertRegistration(ctx.app.db, { userId: ada.id, eventId: soon.id, quantity: 2, status: 'registered' });
    await insertRegistration(ctx.app.db, { userId: bob.id, eventId: soon.id, quantity: 1, status: 'waitlisted' });
    await insertRegistration(ctx.app.db, { userId: ada.id, eventId: later.id, quantity: 1, status: 'registered' });
    await insertRegistration(ctx.app.db, { userId: cy.id, eventId: past.id, quantity: 1, status: 'registered' });
    const asks = [
      { who: ada, query: '' },
      { who: bob, query: '' },
      { who: ada, query: '?status=waitlisted' },
      { who: bob, query: '?status=waitlisted' },
      { who: cy, query: '?upcoming=true' },
      { who: cy, query: '' },
      { who: ada, query: '?page_size=1&page=2' },
    ];
    const page = (res: Answer) => {
      const body = res.json<{ count: number; results: { event_title: string; quantity: number; status: string }[] }>();
      return { count: body.count, results: body.results.map((r) => `${r.event_title} ${r.quantity} ${r.status}`) };
    };
    const alone = await aloneThenTogether(
      asks.map(({ who, query }) => ({ url: `/registrations/mine/${query}`, headers: who.auth })),
      page,
    );
    expect(alone.map((p) => p.count)).toEqual([2, 1, 0, 1, 0, 1, 2]);
    expect(alone[6]!.results).toHaveLength(1);
  });
});

describe("several users' notifications asked for at once", () => {
  it("each request gets its own user's page, read or unread as it asks, as it would alone", async () => {
    const [ann, ben] = await Promise.all([createUser(ctx.app), createUser(ctx.app)]);
    const notify = (userId: string, message: string, isRead: boolean, minute: number) =>
      ctx.app.db.insert(notifications).values({
        userId,
        kind: 'event_updated',
        message,
        isRead,
        createdAt: new Date(ctx.clock.now().getTime() + minute * 60_000),
      });
    await notify(ann.id, 'ann 1', true, 1);
    await notify(ann.id, 'ann 2', false, 2);
    await notify(ann.id, 'ann 3', false, 3);
    await notify(ben.id, 'ben 1', false, 1);
    const asks = [
      { who: ann, query: '' },
      { who: ben, query: '' },
      { who: ann, query: '?is_read=true' },
      { who: ann, query: '?is_read=false&page_size=1&page=2' },
      { who: ben, query: '?is_read=true' },
    ];
    const page = (res: Answer) => {
      const body = res.json<{ count: number; results: { message: string }[] }>();
      return `${body.count}: ${body.results.map((n) => n.message).join(', ')}`;
    };
    const alone = await aloneThenTogether(
      asks.map(({ who, query }) => ({ url: `/notifications/${query}`, headers: who.auth })),
      page,
    );
    expect(alone).toEqual(['3: ann 3, ann 2, ann 1', '1: ben 1', '1: ann 1', '2: ann 2', '0: ']);
  });
});

describe('a page far past the end asked for with others', () => {
  it("is refused or empty for its own request only, never a server error, on both users' pages", async () => {
    for (const path of ['/registrations/mine/', '/notifications/']) {
      const far = `${path}?page=107374184`; // its offset, 2,147,483,660, does not fit in a 32-bit integer
      const answers = await Promise.all([path, far, path].map((url) => ctx.app.inject({ method: 'GET', url, headers: reader.auth })));
      expect(answers.map((res) => res.statusCode < 500)).toEqual([true, true, true]);
      expect([answers[0]!.statusCode, answers[2]!.statusCode]).toEqual([200, 200]);
    }
  });
});
