import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, gt, lte, sql } from 'drizzle-orm';
import { categories, events, searchChanges, searchEpoch } from '../src/db/schema.js';
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
  it('give what PostgreSQL gives for every term, category, publication, date range, order and page, through edits', async () => {
    const organizer = await createOrganizer(ctx.app);
    const [music, chess] = [await createCategory(ctx.app), await createCategory(ctx.app)];
    let seed = 11;
    const random = (n: number) => ((seed = (seed * 48271) % 2147483647), Math.floor((seed / 2147483647) * n));
    const vocabulary = ['chess', 'Chessboard', 'club', 'nightclub', 'night', 'jazz', 'jazzy', 'quiz', 'Null', 'Zugzwang'];
    const days = ['2030-03-01T18:00:00Z', '2030-03-01T18:00:00.001Z', '2030-03-02T09:30:00Z', '2030-04-10T00:00:00Z'];
    const title = () => Array.from({ length: 1 + random(3) }, () => vocabulary[random(vocabulary.length - 1)]).join(' ');
    const values = () => ({
      title: title(),
      description: vocabulary[random(vocabulary.length - 1)],
      dateTime: at(days[random(days.length)]!),
      categoryId: [music.id, chess.id, null][random(3)],
      isActive: random(5) > 0,
    });
    const made: string[] = [];
    for (let i = 0; i < 40; i++) made.push((await createEvent(ctx.app, organizer, values())).id);
    // Every few searches, events change (one at a time, or several in one transaction): the copy follows the log of
    // changes and patches itself, never reading everything again.
    const edits: Array<(tx: typeof ctx.app.db) => Promise<unknown>> = [
      async () => made.push((await createEvent(ctx.app, organizer, { ...values(), title: `${title()} zugzwang` })).id),
      (tx) =>
        tx
          .update(events)
          .set({ title: title() })
          .where(eq(events.id, made[random(made.length)]!)),
      (tx) =>
        tx
          .update(events)
          .set({ description: 'zugzwang' })
          .where(eq(events.id, made[random(made.length)]!)),
      (tx) =>
        tx
          .update(events)
          .set({ dateTime: at(days[random(days.length)]!) })
          .where(eq(events.id, made[random(made.length)]!)),
      (tx) =>
        tx
          .update(events)
          .set({ categoryId: [music.id, chess.id, null][random(3)] })
          .where(eq(events.id, made[random(made.length)]!)),
      (tx) =>
        tx
          .update(events)
          .set({ isActive: random(2) === 0 })
          .where(eq(events.id, made[random(made.length)]!)),
      (tx) => tx.delete(events).where(eq(events.id, made.splice(random(made.length), 1)[0]!)),
    ];
    const emptied = wordIndex.counts.emptied;
    const patched = wordIndex.counts.patched;
    const terms = ['ches', 'chess', 'CHESS', 'club', 'night', 'z', 'jaz', 'quiz', 'null', 'nomatch', 'c', 'zugzwang'];
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
      if (i % 8 === 7) {
        if (random(3) === 0) {
          await ctx.app.db.transaction(async (tx) => {
            for (let n = 0; n < 3; n++) await edits[1 + random(edits.length - 1)]!(tx);
          });
        } else await edits[random(edits.length)]!(ctx.app.db);
      }
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
    expect(wordIndex.counts.emptied).toBe(emptied);
    expect(wordIndex.counts.patched).toBeGreaterThanOrEqual(patched + 15);
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
    // The first search after a change is answered here: the copy catches up from the log, and the search runs again.
    const before = { ...wordIndex.counts };
    await listEventsJson(ctx.app.db, { search: 'kayak', categorySlug: category.slug, activeOnly: true }, 'date_time', 20, 0);
    expect(wordIndex.counts).toMatchObject({ answered: before.answered + 1, patched: before.patched + 1, emptied: before.emptied });
    await check([second.id]);
    expect((await bothWays({ search: 'canoe', categorySlug: category.slug })).memory.ids).toEqual([first.id]);
    await edit(first.id, { title: 'Kayak and canoe', dateTime: at('2030-05-03T10:00:00Z') });
    await check([second.id, first.id]);
    await check([second.id], { toExclusive: at('2030-05-03T00:00:00Z') });
    await edit(second.id, { isActive: false });
    await check([first.id]);
    const emptied = wordIndex.counts.emptied;
    await ctx.app.db
      .update(categories)
      .set({ slug: `${category.slug}-renamed` })
      .where(eq(categories.id, category.id));
    await check([]);
    // A category's change names no event: the copy reads everything again.
    expect(wordIndex.counts.emptied).toBe(emptied + 1);
    const renamed = await bothWays({ search: 'kayak', categorySlug: `${category.slug}-renamed`, activeOnly: true });
    expect(renamed.memory).toEqual(renamed.postgres);
    expect(renamed.memory.ids).toEqual([first.id]);
    await ctx.app.db.delete(events).where(eq(events.id, first.id));
    const deleted = await bothWays({ search: 'kayak', categorySlug: `${category.slug}-renamed` });
    expect(deleted.memory).toEqual(deleted.postgres);
    expect(deleted.memory.ids).toEqual([second.id]);
    expect(wordIndex.counts.emptied).toBe(emptied + 1);
    // A log that no longer reaches back to the copy's number (pruned, see migration 0018): everything is read again.
    await edit(second.id, { title: 'Kayak marathon' });
    await edit(second.id, { dateTime: at('2030-05-04T10:00:00Z') });
    await ctx.app.db.execute(sql`delete from search_changes where epoch = (select epoch - 1 from search_epoch)`);
    const pruned = await bothWays({ search: 'marathon', categorySlug: `${category.slug}-renamed` });
    expect(pruned.memory).toEqual(pruned.postgres);
    expect(pruned.memory.ids).toEqual([second.id]);
    expect(wordIndex.counts.emptied).toBe(emptied + 2);
  });

  it('leave no total in the list count cache: a search that PostgreSQL answers next is counted afresh', async () => {
    const cached = await buildTestApp({ env: { LIST_COUNT_CACHE_SECONDS: '2' }, database: ctx.database, clock: ctx.clock });
    const { words } = wordIndex.limits;
    try {
      const organizer = await createOrganizer(cached.app);
      const word = `quokka${Date.now()}`;
      const count = async () => (await cached.app.inject({ url: `/events/?search=${word}` })).json<{ count: number }>().count;
      await createEvent(cached.app, organizer, { title: `${word} walk` });
      // Until this worker's copy has caught up, PostgreSQL answers (and the count cache keeps its total): let it expire.
      for (let tries = 0; tries < 3; tries++) {
        const answered = wordIndex.counts.answered;
        expect(await count()).toBe(1);
        if (wordIndex.counts.answered > answered) break;
      }
      ctx.clock.advance(2_100);
      const answered = wordIndex.counts.answered;
      expect(await count()).toBe(1);
      expect(wordIndex.counts.answered).toBe(answered + 1);

      await createEvent(cached.app, organizer, { title: `${word} run` });
      // Now PostgreSQL answers (the copy takes no term of a single word), and must count.
      wordIndex.limits.words = 0;
      const declined = wordIndex.counts.declined;
      expect(await count()).toBe(2);
      expect(wordIndex.counts.declined).toBe(declined + 1);
    } finally {
      wordIndex.limits.words = words;
      await cached.close();
    }
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
    expect(small.counts).toMatchObject({ answered: 1, declined: 2 });
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
    // Each number logged once, with its event: the twenty new ones and the ten edited.
    const logged = await ctx.app.db
      .select({ epoch: searchChanges.epoch, eventId: searchChanges.eventId })
      .from(searchChanges)
      .where(gt(searchChanges.epoch, before));
    expect(logged.map((row) => row.epoch).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => before + 1 + i));
    const created = answers.slice(0, 20).map((answer) => answer.json<{ id: string }>().id);
    expect(logged.map((row) => row.eventId).sort()).toEqual([...created, ...existing.map((event) => event.id)].sort());
    const { memory, postgres } = await bothWays({ search: 'rowing', activeOnly: true }, 'date_time', 100);
    expect(memory).toEqual(postgres);
    expect(memory.total).toBe(30);
    // Edits behind the application's back count too: one statement renaming ten events moves it by ten.
    await ctx.app.db.execute(sql`update events set title = title || ' x' where title like 'Rowing club %'`);
    expect(await epoch()).toBe(before + 40);
  });

  it('keep the log of changes short: the move to a multiple of 1,000 drops the rows 10,000 or more behind it', async () => {
    const organizer = await createOrganizer(ctx.app);
    const event = await createEvent(ctx.app, organizer, { title: 'Pruning' });
    const next = Math.ceil(((await epoch()) + 1) / 1000) * 1000;
    await ctx.app.db.execute(sql`update search_epoch set epoch = ${next - 1}`);
    await ctx.app.db.insert(searchChanges).values([
      { epoch: next - 10_000, eventId: event.id },
      { epoch: next - 9_999, eventId: event.id },
    ]);
    await ctx.app.db.update(events).set({ title: 'Pruned' }).where(eq(events.id, event.id));
    const left = await ctx.app.db
      .select({ epoch: searchChanges.epoch })
      .from(searchChanges)
      .where(lte(searchChanges.epoch, next - 9_999));
    expect(left.map((row) => row.epoch)).toEqual([next - 9_999]);
    // Copies that stood at the old number read everything again; what they answer is still PostgreSQL's answer.
    const { memory, postgres } = await bothWays({ search: 'pruned' });
    expect(memory).toEqual(postgres);
    expect(memory.ids).toEqual([event.id]);
  });
});
