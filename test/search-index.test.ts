import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { categories, events, searchEpoch } from '../src/db/schema.js';
import { listEventsJson, wordIndex, type EventFilter } from '../src/modules/events/events.repository.js';
import { SearchIndex } from '../src/modules/events/search-index.js';
import { buildTestApp, type TestContext } from './helpers/app.js';
import { authHeader, createCategory, createEvent, createOrganizer, createUser, registerFor } from './helpers/factories.js';

// Searches through event_words answered from a worker's memory (src/modules/events/search-index.ts) must be exactly
// what PostgreSQL answers, at every moment: the copy is used only while search_epoch (migration 0017) stands where
// it stood when the copy was read.
let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp();
});
afterAll(async () => ctx.close());

const at = (iso: string) => new Date(iso);
const epoch = async () => (await ctx.app.db.select({ epoch: searchEpoch.epoch }).from(searchEpoch))[0]!.epoch;
const idsOf = (json: string) => (JSON.parse(json) as Array<{ id: string }>).map((event) => event.id);

/** The search from memory, which must have answered it, and from PostgreSQL: both answers. */
async function bothWays(filter: EventFilter, ordering: 'date_time' | '-date_time' = 'date_time', limit = 20, offset = 0) {
  const answered = wordIndex.counts.answered;
  let fromMemory = await listEventsJson(ctx.app.db, filter, ordering, limit, offset);
  // Just after a change the copy is read again and the first search may still go to PostgreSQL; the next may not.
  if (wordIndex.counts.answered === answered) fromMemory = await listEventsJson(ctx.app.db, filter, ordering, limit, offset);
  expect(wordIndex.counts.answered, `${JSON.stringify(filter)} was not answered from memory`).toBe(answered + 1);
  const inPostgres = await listEventsJson(ctx.app.db, filter, ordering, limit, offset, undefined, { fromMemory: false });
  return {
    memory: { total: fromMemory.total, ids: idsOf(fromMemory.resultsJson) },
    postgres: { total: inPostgres.total, ids: idsOf(inPostgres.resultsJson) },
  };
}

describe('searches answered from memory', () => {
  it('give what PostgreSQL gives for every term, category, publication, date range, order and page', async () => {
    const organizer = await createOrganizer(ctx.app);
    const [music, chess] = [await createCategory(ctx.app), await createCategory(ctx.app)];
    let seed = 11;
    const random = (n: number) => ((seed = (seed * 48271) % 2147483647), Math.floor((seed / 2147483647) * n));
    const vocabulary = ['chess', 'Chessboard', 'club', 'nightclub', 'night', 'jazz', 'jazzy', 'quiz', 'Null'];
    const days = ['2030-03-01T18:00:00Z', '2030-03-01T18:00:00.001Z', '2030-03-02T09:30:00Z', '2030-04-10T00:00:00Z'];
    for (let i = 0; i < 40; i++) {
      await createEvent(ctx.app, organizer, {
        title: Array.from({ length: 1 + random(3) }, () => vocabulary[random(vocabulary.length)]).join(' '),
        description: vocabulary[random(vocabulary.length)],
        dateTime: at(days[random(days.length)]!),
        categoryId: [music.id, chess.id, null][random(3)],
        isActive: random(5) > 0,
      });
    }
    const terms = ['ches', 'chess', 'CHESS', 'club', 'night', 'z', 'jaz', 'quiz', 'null', 'nomatch', 'c'];
    const categoryFilters: EventFilter[] = [
      {},
      { categoryId: music.id },
      { categorySlug: chess.slug },
      { categorySlug: 'no-such-category' },
    ];
    const publication: EventFilter[] = [{ activeOnly: true }, { isActive: true }, { isActive: false }, {}];
    const ranges: EventFilter[] = [
      {},
      { from: at('2030-03-01T18:00:00.001Z') },
      { toInclusive: at('2030-03-01T18:00:00.001Z') },
      { toExclusive: at('2030-03-02T09:30:00Z') },
      { from: at('2030-03-01T18:00:00Z'), toExclusive: at('2030-04-10T00:00:00Z') },
    ];
    let found = 0;
    for (let i = 0; i < 160; i++) {
      const filter = {
        search: terms[random(terms.length)],
        ...categoryFilters[random(categoryFilters.length)],
        ...publication[random(publication.length)],
        ...ranges[random(ranges.length)],
      };
      const ordering = random(2) === 0 ? 'date_time' : '-date_time';
      const [limit, offset] = (
        [
          [20, 0],
          [3, 0],
          [3, 3],
          [4, 8],
        ] as const
      )[random(4)]!;
      const { memory, postgres } = await bothWays(filter, ordering, limit, offset);
      expect(memory, `${JSON.stringify(filter)} ${ordering} ${limit}/${offset}`).toEqual(postgres);
      if (postgres.total > limit) found++;
    }
    // The samples reach lists longer than one page.
    expect(found).toBeGreaterThan(20);
  });

  it('see every change at once: new events, edits, moves, unpublishing, a renamed category, deletions', async () => {
    const organizer = await createOrganizer(ctx.app);
    const category = await createCategory(ctx.app);
    const kayaks = (extra: EventFilter = {}) => bothWays({ search: 'kayak', categorySlug: category.slug, activeOnly: true, ...extra });
    const check = async (expected: string[], extra: EventFilter = {}) => {
      const { memory, postgres } = await kayaks(extra);
      expect(memory).toEqual(postgres);
      expect(memory.ids).toEqual(expected);
    };
    const first = await createEvent(ctx.app, organizer, {
      title: 'Kayak trip',
      categoryId: category.id,
      dateTime: at('2030-05-01T10:00:00Z'),
    });
    await check([first.id]);
    const second = await createEvent(ctx.app, organizer, {
      title: 'Kayak race',
      categoryId: category.id,
      dateTime: at('2030-05-02T10:00:00Z'),
    });
    await check([first.id, second.id]);
    const edit = (id: string, values: Partial<typeof events.$inferInsert>) =>
      ctx.app.db.update(events).set(values).where(eq(events.id, id));
    await edit(first.id, { title: 'Canoe trip' });
    await check([second.id]);
    expect((await bothWays({ search: 'canoe', categorySlug: category.slug })).memory.ids).toEqual([first.id]);
    await edit(first.id, { title: 'Kayak and canoe', dateTime: at('2030-05-03T10:00:00Z') });
    await check([second.id, first.id]);
    await check([second.id], { toExclusive: at('2030-05-03T00:00:00Z') });
    await edit(second.id, { isActive: false });
    await check([first.id]);
    await ctx.app.db
      .update(categories)
      .set({ slug: `${category.slug}-renamed` })
      .where(eq(categories.id, category.id));
    await check([]);
    const renamed = await bothWays({ search: 'kayak', categorySlug: `${category.slug}-renamed`, activeOnly: true });
    expect(renamed.memory).toEqual(renamed.postgres);
    expect(renamed.memory.ids).toEqual([first.id]);
    await ctx.app.db.delete(events).where(eq(events.id, first.id));
    const deleted = await bothWays({ search: 'kayak', categorySlug: `${category.slug}-renamed` });
    expect(deleted.memory).toEqual(deleted.postgres);
    expect(deleted.memory.ids).toEqual([second.id]);
  });

  it('leave to PostgreSQL a term held by too many words, a count too long, or lists that do not fit', async () => {
    const organizer = await createOrganizer(ctx.app);
    const made = [];
    for (const title of ['Vexqa', 'Vexqb', 'Zexqc', 'Vexqa vexqb', 'Vexqa again', 'Vexqa once more'])
      made.push(await createEvent(ctx.app, organizer, { title, dateTime: at('2031-01-01T00:00:00Z') }));
    const small = new SearchIndex({ entries: 100, words: 1, counted: 100 });
    const search = (index: SearchIndex, term: string) => index.search(ctx.app.db, { search: term, activeOnly: true }, false, 20, 0);
    expect(await search(small, 'exq')).toBeUndefined(); // three words
    expect(await search(small, 'vexq')).toBeUndefined(); // two
    expect(await search(small, 'vexqa')).toMatchObject({ total: 4 }); // one word: its count is free
    expect(small.counts).toEqual({ answered: 1, declined: 2 });
    // Two words whose count walks six entries.
    small.limits.words = 2;
    small.limits.counted = 5;
    expect(await search(small, 'vexq')).toBeUndefined();
    expect(small.counts.declined).toBe(3);
    small.limits.counted = 6;
    const both = await search(small, 'vexq');
    const expected = made.filter((event) => /vexq[ab]/i.test(event.title)).map((event) => event.id);
    expect(both?.total).toBe(5);
    // All on one date: in id order, as PostgreSQL orders uuids.
    expect(both?.versions.split(',').map((item) => item.split(' ')[0])).toEqual(expected.sort());
    // A word whose lists are larger than the memory allowed is not kept, and its searches go to PostgreSQL.
    expect(await search(new SearchIndex({ entries: 4, words: 32, counted: 100 }), 'vexqa')).toBeUndefined();
  });

  it('stay in use through registrations: seats do not move the search epoch, and the page shows them', async () => {
    const organizer = await createOrganizer(ctx.app);
    const event = await createEvent(ctx.app, organizer, { title: 'Regatta', capacity: 5 });
    await bothWays({ search: 'regatta', activeOnly: true });
    const before = await epoch();
    const user = await createUser(ctx.app);
    // Signed in, as the web app asks: the body sent is kept by the page's versions (pagination.ts), never reused for
    // the next version.
    const signedIn = async () =>
      (await ctx.app.inject({ url: '/events/?search=regatta', headers: authHeader(ctx.app, user.id) })).json<{ results: object[] }>()
        .results;
    expect(await signedIn()).toMatchObject([{ id: event.id, registered_count: 0 }]);
    expect(await signedIn()).toMatchObject([{ id: event.id, registered_count: 0 }]);
    expect((await registerFor(ctx.app, user, event.id, 2)).statusCode).toBe(201);
    expect(await signedIn()).toMatchObject([{ id: event.id, registered_count: 2 }]);
    expect(await epoch()).toBe(before);
    const declined = wordIndex.counts.declined;
    const page = await listEventsJson(ctx.app.db, { search: 'regatta', activeOnly: true }, 'date_time', 20, 0);
    expect(wordIndex.counts.declined).toBe(declined);
    expect(JSON.parse(page.resultsJson)).toMatchObject([{ id: event.id, registered_count: 2, tickets_remaining: 3 }]);
  });

  it('move the epoch once per committed change, with events created and edited at once sharing their words', async () => {
    const organizer = await createOrganizer(ctx.app);
    const auth = authHeader(ctx.app, organizer.id);
    const existing = await Promise.all(
      Array.from({ length: 10 }, (_, i) => createEvent(ctx.app, organizer, { title: `Rowing ${i}`, dateTime: at('2030-06-01T10:00:00Z') })),
    );
    const before = await epoch();
    const answers = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) =>
        ctx.app.inject({
          method: 'POST',
          url: '/events/create/',
          headers: auth,
          payload: { title: `Rowing regatta ${i}`, description: 'Oars', location: 'Lake', date_time: '2030-06-02T10:00:00Z', capacity: 10 },
        }),
      ),
      ...existing.map((event, i) =>
        ctx.app.inject({ method: 'PATCH', url: `/events/${event.id}/edit/`, headers: auth, payload: { title: `Rowing club ${i}` } }),
      ),
    ]);
    expect(answers.map((answer) => answer.statusCode)).toEqual([...Array<number>(20).fill(201), ...Array<number>(10).fill(200)]);
    expect(await epoch()).toBe(before + 30);
    const { memory, postgres } = await bothWays({ search: 'rowing', activeOnly: true }, 'date_time', 100);
    expect(memory).toEqual(postgres);
    expect(memory.total).toBe(30);
    // Edits behind the application's back count too: one statement renaming ten events moves it by ten.
    await ctx.app.db.execute(sql`update events set title = title || ' x' where title like 'Rowing club %'`);
    expect(await epoch()).toBe(before + 40);
  });
});
