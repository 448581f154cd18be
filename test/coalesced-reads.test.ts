import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { coalescedReads } from '../src/db/coalesce.js';
import { buildTestApp } from './helpers/app.js';
import { createEvent, createOrganizer, createUser } from './helpers/factories.js';

// Reads asked for together go to the database as one statement (src/db/coalesce.ts), and each request still gets
// exactly its own answer.
const ctx = await buildTestApp();
afterAll(async () => ctx.close());
const owner = await createOrganizer(ctx.app);
const reader = await createUser(ctx.app);

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
  const titles = (res: { json<T>(): T }) => res.json<{ results: { title: string }[] }>().results.map((e) => e.title);
  const at = (days: number) => new Date(ctx.clock.now().getTime() + days * 86_400_000);

  it('each gets its own list: the same upcoming list is read once for all, lists from different dates are not mixed', async () => {
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
    const alone: string[][] = [];
    for (const url of urls) alone.push(titles(await ctx.app.inject({ method: 'GET', url, headers: reader.auth })));
    const together = await Promise.all(urls.map((url) => ctx.app.inject({ method: 'GET', url, headers: reader.auth })));
    expect(together.map(titles)).toEqual(alone);
    expect(alone.map((page) => page.length)).toEqual([1, 2, 3, 4, 10, 1, 0]);
  });
});
