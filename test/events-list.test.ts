import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { events, eventWords } from '../src/db/schema.js';
import type { EventRow } from '../src/modules/events/events.repository.js';
import { ManualClock } from '../src/lib/clock.js';
import { ListCountCache } from '../src/modules/events/events.service.js';
import { buildTestApp, type TestContext } from './helpers/app.js';
import { onPostgres } from './helpers/database.js';
import { createCategory, createEvent, createOrganizer, type TestUser } from './helpers/factories.js';

// The clock stands at 2030-01-01T00:00:00Z throughout this file.
let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp();
});
afterAll(async () => ctx.close());

const at = (iso: string) => new Date(iso);
async function list(query: string) {
  const res = await ctx.app.inject({ url: `/events/?${query}` });
  expect(res.statusCode, `${query}: ${res.body}`).toBe(200);
  return res.json<{ count: number; next: string | null; previous: string | null; results: { id: string }[] }>();
}
const ids = async (query: string) => (await list(query)).results.map((e) => e.id);
async function rejected(query: string) {
  const res = await ctx.app.inject({ url: `/events/?${query}` });
  expect(res.statusCode, query).toBe(400);
  return Object.keys(res.json());
}

/** Each test gets its own organizer and filters by it, so tests do not see each other's events. */
async function organizerWith(...specs: Partial<EventRow>[]): Promise<{ organizer: TestUser; events: EventRow[]; by: string }> {
  const organizer = await createOrganizer(ctx.app);
  const events: EventRow[] = [];
  for (const spec of specs) events.push(await createEvent(ctx.app, organizer, spec));
  return { organizer, events, by: `organizer=${organizer.id}` };
}

describe('default listing', () => {
  it('shows upcoming active events (from now, inclusive), soonest first; include_past adds past ones', async () => {
    const {
      events: [later, now, past, cancelled, sooner],
      by,
    } = await organizerWith(
      { dateTime: at('2030-03-01T00:00:00Z') },
      { dateTime: at('2030-01-01T00:00:00Z') },
      { dateTime: at('2029-12-31T23:59:59Z') },
      { dateTime: at('2030-02-01T00:00:00Z'), isActive: false },
      { dateTime: at('2030-02-01T00:00:00Z') },
    );
    expect(await ids(by)).toEqual([now!.id, sooner!.id, later!.id]);
    expect(await ids(`${by}&include_past=true`)).toEqual([past!.id, now!.id, sooner!.id, later!.id]);
    expect(await ids(`${by}&include_past=false`)).toEqual([now!.id, sooner!.id, later!.id]);
    expect(cancelled).toBeDefined();
    expect(await rejected('include_past=yesno')).toEqual(['include_past']);
  });

  it('reads "now" per request', async () => {
    const {
      events: [event],
      by,
    } = await organizerWith({ dateTime: at('2030-01-01T00:00:10Z') });
    expect(await ids(by)).toEqual([event!.id]);
    ctx.clock.advance(11_000);
    try {
      expect(await ids(by)).toEqual([]);
    } finally {
      ctx.clock.set('2030-01-01T00:00:00Z');
    }
  });
});

describe('answers to signed-in requests', () => {
  it('are the same JSON as anonymous ones, sent as bytes of the right length, page after page', async () => {
    const { organizer, by } = await organizerWith(
      { title: 'Crème brûlée night 🎟', dateTime: at('2030-04-01T00:00:00Z') },
      { title: 'Plain', dateTime: at('2030-04-02T00:00:00Z') },
      { title: 'Ünïcödé', dateTime: at('2030-04-03T00:00:00Z') },
    );
    // The same first page under other heads (its next link names the query) and the same head again.
    const sameFirstPage = [`${by}&page_size=2&ordering=date_time`, `${by}&page_size=2&date_from=2030-01-01&x=${encodeURIComponent('é')}`];
    for (const query of [`${by}&page_size=2`, `${by}&page_size=2&page=2`, `${by}&page_size=2`, ...sameFirstPage, `${by}&page_size=2`]) {
      const anonymous = await ctx.app.inject({ url: `/events/?${query}` });
      const signedIn = await ctx.app.inject({ url: `/events/?${query}`, headers: organizer.auth });
      expect(signedIn.statusCode).toBe(200);
      expect(signedIn.body).toBe(anonymous.body);
      expect(Number(signedIn.headers['content-length'])).toBe(Buffer.byteLength(anonymous.body));
      expect(signedIn.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(signedIn.headers['cache-control']).toBe('no-store');
    }
  });
});

describe('pagination', () => {
  it('pages with count/next/previous, 404 past the last page, 400 on bad numbers, caps page_size', async () => {
    const { events, by } = await organizerWith(...[1, 2, 3, 4, 5].map((day) => ({ dateTime: at(`2030-02-0${day}T00:00:00Z`) })));
    const first = await list(`${by}&page_size=2`);
    expect(first.count).toBe(5);
    expect(first.results.map((e) => e.id)).toEqual([events[0]!.id, events[1]!.id]);
    expect(first.previous).toBeNull();
    expect(new URL(first.next!).searchParams.get('page')).toBe('2');
    const last = await list(`${by}&page_size=2&page=3`);
    expect(last.results.map((e) => e.id)).toEqual([events[4]!.id]);
    expect(last.next).toBeNull();
    expect(new URL(last.previous!).searchParams.get('page')).toBe('2');
    expect((await ctx.app.inject({ url: `/events/?${by}&page_size=2&page=4` })).statusCode).toBe(404);
    expect(await rejected('page=0')).toEqual(['page']);
    expect(await rejected('page_size=0')).toEqual(['page_size']);
    expect(await rejected('page=two')).toEqual(['page']);
    expect((await list(`${by}&page_size=1000`)).results).toHaveLength(5);
    const empty = await list(`organizer=${(await createOrganizer(ctx.app)).id}`);
    expect(empty).toEqual({ count: 0, next: null, previous: null, results: [] });
  });
});

describe('search', () => {
  it('matches title, description or location, ignoring case and accents', async () => {
    const {
      events: [title, description, location, none],
      by,
    } = await organizerWith(
      { title: 'Crème Brûlée Workshop' },
      { description: 'We bake a CREME brulee together.' },
      { location: 'Café Crème, São Paulo' },
      { title: 'Cheese tasting', description: 'Nothing sweet', location: 'Bern' },
    );
    const all = [title!.id, description!.id, location!.id].sort();
    expect((await ids(`${by}&search=creme`)).sort()).toEqual(all);
    expect((await ids(`${by}&search=CRÈME`)).sort()).toEqual(all);
    expect(await ids(`${by}&search=${encodeURIComponent('sao paulo')}`)).toEqual([location!.id]);
    expect(await ids(`${by}&search=brulee%20workshop`)).toEqual([title!.id]);
    expect(await ids(`${by}&search=bern`)).toEqual([none!.id]);
    expect(await ids(`${by}&search=opera`)).toEqual([]);
    expect((await ids(`${by}&search=%20%20`)).length).toBe(4);
    // Each field on its own: the end of one and the start of the next do not make a match together.
    expect(await ids(`${by}&search=${encodeURIComponent('tasting nothing')}`)).toEqual([]);
    expect(await ids(`${by}&search=${encodeURIComponent('sweet bern')}`)).toEqual([]);
  });

  it('sees a changed title, description or location at once', async () => {
    const {
      organizer,
      events: [event],
      by,
    } = await organizerWith({ title: 'Harbour cleanup', description: 'Gloves provided', location: 'Pier 4' });
    expect(await ids(`${by}&search=kayak`)).toEqual([]);
    for (const change of [{ title: 'Kayak harbour cleanup' }, { title: 'Harbour cleanup', description: 'Kayaks provided' }]) {
      const res = await ctx.app.inject({ method: 'PATCH', url: `/events/${event!.id}/edit/`, headers: organizer.auth, payload: change });
      expect(res.statusCode).toBe(200);
      expect(await ids(`${by}&search=kayak`)).toEqual([event!.id]);
    }
  });

  it('matches %, _, quotes and backslashes literally', async () => {
    const {
      events: [percent, underscore, quote, backslash, plain],
      by,
    } = await organizerWith(
      { title: '100% fun' },
      { title: 'snake_case meetup' },
      { title: 'O\'Reilly "night"' },
      { title: 'C:\\temp party' },
      { title: '1000 fun snakeXcase OReilly Ctemp' },
    );
    expect(await ids(`${by}&search=${encodeURIComponent('100%')}`)).toEqual([percent!.id]);
    expect(await ids(`${by}&search=${encodeURIComponent('%')}`)).toEqual([percent!.id]);
    expect(await ids(`${by}&search=${encodeURIComponent('snake_case')}`)).toEqual([underscore!.id]);
    expect(await ids(`${by}&search=_`)).toEqual([underscore!.id]);
    expect(await ids(`${by}&search=${encodeURIComponent("O'Reilly")}`)).toEqual([quote!.id]);
    expect(await ids(`${by}&search=${encodeURIComponent('"night"')}`)).toEqual([quote!.id]);
    expect(await ids(`${by}&search=${encodeURIComponent('C:\\temp')}`)).toEqual([backslash!.id]);
    expect(await ids(`${by}&search=${encodeURIComponent('\\')}`)).toEqual([backslash!.id]);
    // The text search writes its values into its statement (events.repository.ts): quotes and backslashes stay text.
    for (const attack of ["x' or '1'='1", "x\\' or 1=1 --", "'); drop table events; --", "\\'"]) {
      expect(await ids(`${by}&search=${encodeURIComponent(attack)}`), attack).toEqual([]);
      expect(await ids(`${by}&location=${encodeURIComponent(attack)}`), attack).toEqual([]);
    }
    expect(plain).toBeDefined();
    expect(await rejected(`search=${'x'.repeat(201)}`)).toEqual(['search']);
  });
});

describe('plans', () => {
  it.runIf(onPostgres)('prepared statements run on generic plans: the pool asks for them on every connection', async () => {
    const result = await ctx.app.db.execute(sql`show plan_cache_mode`);
    expect((result as { rows: Array<{ plan_cache_mode: string }> }).rows[0]!.plan_cache_mode).toBe('force_generic_plan');
  });
});

describe("search within a category (through the events' words)", () => {
  // With a category and the date order, ?search= finds its events through event_words (migration 0013); the same
  // search ordered by title tests search_text itself. Both must find the same events for every term.
  async function categoryWith(...specs: Partial<EventRow>[]) {
    const category = await createCategory(ctx.app);
    const organizer = await createOrganizer(ctx.app);
    const events: EventRow[] = [];
    for (const spec of specs) events.push(await createEvent(ctx.app, organizer, { categoryId: category.id, ...spec }));
    return { category, organizer, events, by: `category=${category.slug}` };
  }
  const wordsOf = async (eventId: string) =>
    (await ctx.app.db.select({ word: eventWords.word }).from(eventWords).where(eq(eventWords.eventId, eventId)))
      .map((row) => row.word)
      .sort();

  it('finds exactly what a search of the whole text finds', async () => {
    const {
      events: [creme, jazz, symbols, strasse, quiet],
      by,
    } = await categoryWith(
      { title: 'Crème Brûlée Workshop', description: 'Bring a whisk.\nAnd\tan apron.' },
      { title: 'Jazz & Blues', description: 'JAZZ all night; jazzercise at dawn', location: 'İstanbul' },
      { title: '100% fun', description: 'snake_case and C:\\temp and O\'Reilly "night"' },
      { title: 'Straße Fest ½ price', location: 'Café Crème, São Paulo' },
      { title: 'Quiet evening', description: 'nothing here, warm‐up', location: 'Bern' },
    );
    const terms = [
      'creme',
      'CRÈME',
      'brûl',
      'whisk.',
      'apron',
      'jazz',
      'JaZz',
      'zzer',
      'blues',
      '&',
      'istanbul',
      'İstanbul',
      '100%',
      '%',
      '_',
      'snake_case',
      '\\',
      'c:\\temp',
      "o'reilly",
      '"night"',
      'night',
      'straße',
      'strasse',
      'ß',
      '½',
      '1/2',
      'paulo',
      'são',
      'e',
      'x',
      'opera',
      'nothing',
      'fest',
      ';',
      'all night',
      'a w',
      // Across a word's end at punctuation (words are split there: migration 0015), and punctuation alone.
      'e_c',
      "o'r",
      'sk.',
      '.',
      'h.\na',
      'reilly',
      'case',
      // A hyphen (U+2010) that unaccent makes "-": the term is split only once unaccented.
      'm‐u',
    ];
    for (const term of terms) {
      const query = `${by}&search=${encodeURIComponent(term)}`;
      const byWords = await list(query);
      const byText = await list(`${query}&ordering=title`);
      expect(byWords.count, term).toBe(byText.count);
      expect(byWords.results.map((e) => e.id).sort(), term).toEqual(byText.results.map((e) => e.id).sort());
    }
    // And what they find is right, not only the same.
    expect(await ids(`${by}&search=JaZz`)).toEqual([jazz!.id]);
    expect(await ids(`${by}&search=zzer`)).toEqual([jazz!.id]);
    expect((await ids(`${by}&search=creme`)).sort()).toEqual([creme!.id, strasse!.id].sort());
    expect(await ids(`${by}&search=%25`)).toEqual([symbols!.id]);
    expect(await ids(`${by}&search=${encodeURIComponent('c:\\temp')}`)).toEqual([symbols!.id]);
    expect(await ids(`${by}&search=opera`)).toEqual([]);
    expect(await ids(`${by}&search=e_c`)).toEqual([symbols!.id]);
    expect(await ids(`${by}&search=whisk`)).toEqual([creme!.id]);
    expect(await ids(`${by}&search=${encodeURIComponent('m‐u')}`)).toEqual([quiet!.id]);
    expect(await wordsOf(creme!.id)).toEqual([
      'a',
      'an',
      'and',
      'apron',
      'bring',
      'brulee',
      'creme',
      'lagos',
      'nigeria',
      'whisk',
      'workshop',
    ]);
  });

  it('counts an event once however many of its words match, and pages in date order both ways', async () => {
    const {
      events: [second, first, third],
      by,
    } = await categoryWith(
      { title: 'Chess night', description: 'Chess, chess and more chess.', dateTime: at('2030-02-02T00:00:00Z') },
      { title: 'Chess club', dateTime: at('2030-02-01T00:00:00Z') },
      { title: 'Speed chess', dateTime: at('2030-02-03T00:00:00Z') },
    );
    const page1 = await list(`${by}&search=chess&page_size=2`);
    expect(page1.count).toBe(3);
    expect(page1.results.map((e) => e.id)).toEqual([first!.id, second!.id]);
    expect(await ids(`${by}&search=chess&page_size=2&page=2`)).toEqual([third!.id]);
    expect(await ids(`${by}&search=chess&ordering=-date_time`)).toEqual([third!.id, second!.id, first!.id]);
    expect(await ids(`${by}&search=chess&date_from=2030-02-02&date_to=2030-02-02`)).toEqual([second!.id]);
  });

  it('pages like a search of the whole text when several words match, every page, both orders, equal dates', async () => {
    // Each matching word's events are walked only as far as the page needs; the pages must still be the text search's.
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 48271) % 2147483647), Math.floor((seed / 2147483647) * n));
    const vocabulary = ['chess', 'chessboard', 'Chess.', 'bachess', 'club', 'night'];
    const dates = ['2030-03-01', '2030-03-02', '2030-03-03', '2030-03-04'].map((day) => at(`${day}T18:00:00Z`));
    const { by } = await categoryWith(
      ...Array.from({ length: 28 }, () => ({
        title: Array.from({ length: 1 + random(3) }, () => vocabulary[random(vocabulary.length)]).join(' '),
        description: vocabulary[random(vocabulary.length)],
        dateTime: dates[random(dates.length)]!,
      })),
    );
    for (const term of ['chess', 'ches', 'board', 'club', 's.']) {
      for (const ordering of ['date_time', '-date_time']) {
        const query = `${by}&search=${encodeURIComponent(term)}&ordering=${ordering}&page_size=4`;
        // has_seats is not among event_words' filters: the same list through search_text (every event has seats).
        const whole = await list(`${query}&has_seats=true`);
        expect(whole.count, term).toBeGreaterThan(4);
        expect((await list(query)).count, term).toBe(whole.count);
        for (let page = 1; (page - 1) * 4 < whole.count; page++) {
          expect(await ids(`${query}&page=${page}`), `${term} ${ordering} ${page}`).toEqual(
            await ids(`${query}&has_seats=true&page=${page}`),
          );
        }
      }
    }
  });

  it('counts like a search of the whole text over months, at their edges, and after moves, edits and deletions', async () => {
    // A one-word count adds up the whole months of its range (event_word_months, migration 0016) and counts the rest
    // entry by entry; every range below starts or ends on, just before or just after a month's edge.
    const days = ['2030-01-31T23:59:59.999Z', '2030-02-01T00:00:00Z', '2030-02-14T12:00:00Z', '2030-02-28T23:59:59Z'];
    days.push('2030-03-01T00:00:00Z', '2030-03-31T10:00:00Z', '2030-05-15T08:00:00Z', '2031-01-01T00:00:00Z');
    const {
      organizer,
      events: made,
      by,
    } = await categoryWith(
      ...days.flatMap((day, i) => [
        { title: `Tango night ${i}`, dateTime: at(day) },
        { title: 'Tango.', description: 'tango, tango', dateTime: at(day) },
      ]),
    );
    const ranges = [
      '',
      '&date_from=2030-02-01',
      '&date_from=2030-01-31',
      '&date_from=2030-02-01T00:00:00.001Z',
      '&date_to=2030-02-28',
      '&date_to=2030-03-01',
      '&date_to=2030-02-28T23:59:59Z',
      '&date_from=2030-02-01&date_to=2030-03-31',
      '&date_from=2030-02-02&date_to=2030-02-27',
      '&date_from=2030-03-01T00:00:00Z&date_to=2030-12-31',
      '&date_from=2030-01-01&date_to=2031-01-01',
      '&include_past=true',
    ];
    const sameAsText = async (expected?: Record<string, number>) => {
      for (const range of ranges) {
        const query = `${by}&search=tango${range}`;
        const byWords = (await list(query)).count;
        // has_seats is not among event_words' filters: the same list through search_text.
        expect(byWords, range).toBe((await list(`${query}&has_seats=true`)).count);
        if (expected?.[range] !== undefined) expect(byWords, range).toBe(expected[range]);
      }
    };
    await sameAsText({ '': 16, '&date_from=2030-02-01': 14, '&date_to=2030-02-28': 8, '&date_from=2030-02-02&date_to=2030-02-27': 2 });

    const edit = async (event: EventRow, payload: Record<string, unknown>) => {
      const res = await ctx.app.inject({ method: 'PATCH', url: `/events/${event.id}/edit/`, headers: organizer.auth, payload });
      expect(res.statusCode, res.body).toBe(200);
    };
    await edit(made[2]!, { date_time: '2030-05-01T00:00:00Z' }); // out of January, into May
    await edit(made[8]!, { title: 'Waltz night' }); // loses the word
    await edit(made[10]!, { category: (await createCategory(ctx.app)).id });
    await ctx.app.db.update(events).set({ isActive: false }).where(eq(events.id, made[12]!.id));
    await ctx.app.db.delete(events).where(eq(events.id, made[14]!.id));
    await sameAsText({ '': 12, '&date_to=2030-02-28': 7 });
  });

  it('takes events created at once that bring the same new words, in any order', async () => {
    const category = await createCategory(ctx.app);
    const organizer = await createOrganizer(ctx.app);
    const words = ['zephyr', 'quokka', 'fjord', 'lumen', 'vortex'].map((w) => `${w}${category.id.slice(0, 8)}`);
    const created = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        ctx.app.inject({
          method: 'POST',
          url: '/events/create/',
          headers: organizer.auth,
          payload: {
            title: [...words.slice(i % 5), ...words.slice(0, i % 5)].join(' '),
            description: [...words].reverse().join(' '),
            location: 'Online',
            date_time: '2030-08-01T09:00:00Z',
            capacity: 10,
            category: category.id,
          },
        }),
      ),
    );
    expect(created.map((res) => res.statusCode)).toEqual(Array(12).fill(201));
    for (const word of words) expect((await list(`category=${category.slug}&search=${word}`)).count).toBe(12);
  });

  it("follows an event's text, category, date, publication and deletion at once", async () => {
    const {
      organizer,
      events: [event],
      by,
    } = await categoryWith({ title: 'Harbour cleanup', description: 'Gloves provided' });
    const other = await createCategory(ctx.app);
    const found = (query = by) => ids(`${query}&search=kayak`);
    const edit = async (payload: Record<string, unknown>) => {
      const res = await ctx.app.inject({ method: 'PATCH', url: `/events/${event!.id}/edit/`, headers: organizer.auth, payload });
      expect(res.statusCode, res.body).toBe(200);
    };
    expect(await found()).toEqual([]);
    await edit({ title: 'Kayak harbour cleanup' });
    expect(await found()).toEqual([event!.id]);
    expect(await wordsOf(event!.id)).toEqual(['cleanup', 'gloves', 'harbour', 'kayak', 'lagos', 'nigeria', 'provided']);
    await edit({ category: other.id });
    expect(await found()).toEqual([]);
    expect(await found(`category=${other.slug}`)).toEqual([event!.id]);
    await edit({ date_time: '2031-05-05T10:00:00Z' });
    expect(await found(`category=${other.slug}&date_from=2031-05-05`)).toEqual([event!.id]);
    expect(await found(`category=${other.slug}&date_to=2031-05-04`)).toEqual([]);
    await ctx.app.db.update(events).set({ isActive: false }).where(eq(events.id, event!.id));
    expect(await found(`category=${other.slug}`)).toEqual([]);
    await ctx.app.db.delete(events).where(eq(events.id, event!.id));
    expect(await wordsOf(event!.id)).toEqual([]);
  });
});

describe('filters', () => {
  it('location: contains, case- and accent-insensitive', async () => {
    const {
      events: [lagos, abuja],
      by,
    } = await organizerWith({ location: 'Lagos, Nigeria' }, { location: 'Abuja' });
    expect(await ids(`${by}&location=LAGOS`)).toEqual([lagos!.id]);
    expect(await ids(`${by}&location=nigéria`)).toEqual([lagos!.id]);
    expect(await ids(`${by}&location=buj`)).toEqual([abuja!.id]);
    expect(await ids(`${by}&location=${encodeURIComponent('%')}`)).toEqual([]);
  });

  it('category: by id or slug; unknown ones match nothing; a malformed value is a 400', async () => {
    const music = await createCategory(ctx.app, { slug: 'music-list' });
    const film = await createCategory(ctx.app);
    const {
      events: [inMusic, inFilm],
      by,
    } = await organizerWith({ categoryId: music.id }, { categoryId: film.id }, {});
    expect(await ids(`${by}&category=${music.id}`)).toEqual([inMusic!.id]);
    expect(await ids(`${by}&category=${music.id.toUpperCase()}`)).toEqual([inMusic!.id]);
    expect(await ids(`${by}&category=music-list`)).toEqual([inMusic!.id]);
    expect(await ids(`${by}&category=Music-List`)).toEqual([inMusic!.id]);
    expect(await ids(`${by}&category=${film.slug}`)).toEqual([inFilm!.id]);
    expect(await ids(`${by}&category=no-such-slug`)).toEqual([]);
    expect(await ids(`${by}&category=00000000-0000-4000-8000-000000000000`)).toEqual([]);
    expect(await rejected(`category=${encodeURIComponent('not a slug!')}`)).toEqual(['category']);
  });

  it('date_from / date_to: dates or datetimes, inclusive; a date_to day runs to its end (UTC)', async () => {
    const {
      events: [startOfDay, endOfDay, nextDay, later],
      by,
    } = await organizerWith(
      { dateTime: at('2030-05-10T00:00:00Z') },
      { dateTime: at('2030-05-10T23:59:59.999Z') },
      { dateTime: at('2030-05-11T00:00:00Z') },
      { dateTime: at('2030-05-20T12:00:00Z') },
    );
    const day = [startOfDay!.id, endOfDay!.id];
    expect(await ids(`${by}&date_from=2030-05-10&date_to=2030-05-10`)).toEqual(day);
    expect(await ids(`${by}&date_to=2030-05-10`)).toEqual(day);
    expect(await ids(`${by}&date_from=2030-05-11`)).toEqual([nextDay!.id, later!.id]);
    expect(await ids(`${by}&date_from=2030-05-10T23:59:59.999Z&date_to=2030-05-11T00:00:00Z`)).toEqual([endOfDay!.id, nextDay!.id]);
    expect(await ids(`${by}&date_to=${encodeURIComponent('2030-05-11T02:00:00+02:00')}`)).toEqual([...day, nextDay!.id]);
    // An unencoded "+" arrives as a space; it still means a positive offset.
    expect(await ids(`${by}&date_to=2030-05-11T01:59:59.999+02:00`)).toEqual(day);
    expect(await ids(`${by}&date_from=2030-05-20T12:00`)).toEqual([later!.id]);
    // A past date_from does not bring back past events unless include_past is set.
    expect(await ids(`${by}&date_from=2020-01-01&date_to=2030-05-10`)).toEqual(day);

    for (const bad of ['2030-13-01', '2030-02-30', 'yesterday', '2030-05-10T25:00:00Z', '10/05/2030', '']) {
      expect(await rejected(`date_from=${encodeURIComponent(bad)}`), bad).toEqual(['date_from']);
      expect(await rejected(`date_to=${encodeURIComponent(bad)}`), bad).toEqual(['date_to']);
    }
    expect(await rejected('date_from=2030-05-11&date_to=2030-05-10')).toEqual(['date_to']);
  });

  it('organizer: by uuid; a malformed one is a 400', async () => {
    const {
      events: [event],
      by,
    } = await organizerWith({});
    expect(await ids(by)).toEqual([event!.id]);
    expect(await rejected('organizer=42')).toEqual(['organizer']);
  });

  it('is_selling_out_soon and has_seats, at the edges', async () => {
    const {
      events: [calm, edge, last, soldOut, noThreshold],
      by,
    } = await organizerWith(
      { capacity: 10, sellsOffSoonThreshold: 3, registeredCount: 6, dateTime: at('2030-02-01T00:00:00Z') },
      { capacity: 10, sellsOffSoonThreshold: 3, registeredCount: 7, dateTime: at('2030-02-02T00:00:00Z') },
      { capacity: 10, sellsOffSoonThreshold: 3, registeredCount: 9, dateTime: at('2030-02-03T00:00:00Z') },
      { capacity: 10, sellsOffSoonThreshold: 3, registeredCount: 10, dateTime: at('2030-02-04T00:00:00Z') },
      { capacity: 10, sellsOffSoonThreshold: 0, registeredCount: 9, dateTime: at('2030-02-05T00:00:00Z') },
    );
    expect(await ids(`${by}&is_selling_out_soon=true`)).toEqual([edge!.id, last!.id]);
    expect(await ids(`${by}&is_selling_out_soon=false`)).toEqual([calm!.id, soldOut!.id, noThreshold!.id]);
    expect(await ids(`${by}&has_seats=true`)).toEqual([calm!.id, edge!.id, last!.id, noThreshold!.id]);
    expect(await ids(`${by}&has_seats=false`)).toEqual([soldOut!.id]);
    expect(await ids(`${by}&has_seats=true&is_selling_out_soon=true`)).toEqual([edge!.id, last!.id]);
    expect(await rejected('is_selling_out_soon=maybe')).toEqual(['is_selling_out_soon']);
    expect(await rejected('has_seats=2')).toEqual(['has_seats']);
  });

  it('filters by the same free seats and selling-out flag the responses show (SQL and TypeScript agree)', async () => {
    const specs = [0, 1, 2, 3, 5].flatMap((threshold) =>
      [0, 4, 7, 8, 10].map((registeredCount) => ({ capacity: 10, sellsOffSoonThreshold: threshold, registeredCount })),
    );
    const { by } = await organizerWith(...specs);
    const all = (await list(`${by}&page_size=100`)).results as unknown as {
      id: string;
      tickets_remaining: number;
      is_selling_out_soon: boolean;
    }[];
    expect(all).toHaveLength(specs.length);
    const where = (keep: (e: (typeof all)[number]) => boolean) => all.filter(keep).map((e) => e.id);
    expect(await ids(`${by}&page_size=100&is_selling_out_soon=true`)).toEqual(where((e) => e.is_selling_out_soon));
    expect(await ids(`${by}&page_size=100&has_seats=true`)).toEqual(where((e) => e.tickets_remaining > 0));
  });

  it('names every malformed parameter at once', async () => {
    expect((await rejected('organizer=x&ordering=price&has_seats=perhaps')).sort()).toEqual(['has_seats', 'ordering', 'organizer']);
  });
});

describe('ordering', () => {
  it('orders by each allowed key; anything else is a 400', async () => {
    const organizer = await createOrganizer(ctx.app);
    const make = (title: string, day: number, created: string, registered: number) =>
      createEvent(ctx.app, organizer, {
        title,
        dateTime: at(`2030-04-0${day}T00:00:00Z`),
        createdAt: at(created),
        capacity: 10,
        registeredCount: registered,
      });
    const b = await make('bravo', 1, '2029-06-03T00:00:00Z', 2);
    const a = await make('alpha', 2, '2029-06-01T00:00:00Z', 9);
    const c = await make('charlie', 3, '2029-06-02T00:00:00Z', 5);
    const by = `organizer=${organizer.id}`;
    expect(await ids(by)).toEqual([b.id, a.id, c.id]);
    expect(await ids(`${by}&ordering=date_time`)).toEqual([b.id, a.id, c.id]);
    expect(await ids(`${by}&ordering=-date_time`)).toEqual([c.id, a.id, b.id]);
    expect(await ids(`${by}&ordering=created_at`)).toEqual([a.id, c.id, b.id]);
    expect(await ids(`${by}&ordering=-created_at`)).toEqual([b.id, c.id, a.id]);
    expect(await ids(`${by}&ordering=title`)).toEqual([a.id, b.id, c.id]);
    expect(await ids(`${by}&ordering=tickets_remaining`)).toEqual([a.id, c.id, b.id]);
    for (const bad of ['price', '-title', 'date_time,title', '']) {
      expect(await rejected(`ordering=${encodeURIComponent(bad)}`), bad).toEqual(['ordering']);
    }
  });
});

describe('list totals cache (LIST_COUNT_CACHE_SECONDS)', () => {
  it('reuses a total for the same filters within its lifetime, never across filters, and recounts after', async () => {
    const cached = await buildTestApp({ env: { LIST_COUNT_CACHE_SECONDS: '2' }, database: ctx.database, clock: ctx.clock });
    try {
      const organizerOfCache = await createOrganizer(cached.app);
      const location = `Cachetown-${Date.now()}`;
      const list = async (query: string) =>
        (await cached.app.inject({ url: `/events/?location=${location}${query}` })).json<{ count: number; results: unknown[] }>();

      await createEvent(cached.app, organizerOfCache, { location });
      expect((await list('')).count).toBe(1);
      await createEvent(cached.app, organizerOfCache, { location });
      const within = await list('');
      expect(within.count).toBe(1); // the total lags for up to two seconds...
      expect(within.results).toHaveLength(2); // ...but the page itself is always fresh
      expect((await list('&has_seats=true')).count).toBe(2); // other filters count on their own
      ctx.clock.advance(2_100);
      expect((await list('')).count).toBe(2);
    } finally {
      await cached.close();
    }
  });
  it('counts a total once while concurrent requests with the same filters wait for it', async () => {
    const counts = new ListCountCache(2, new ManualClock());
    let finish!: (total: number) => void;
    counts.track('k', new Promise<number>((resolve) => (finish = resolve)));
    counts.track('k', Promise.resolve(99)); // a second counter while the first is in flight is not recorded
    const waiting = counts.inFlight('k');
    expect(waiting).toBeDefined();
    expect(counts.get('k')).toBeUndefined();
    finish(7);
    expect(await waiting).toBe(7);
    expect(counts.get('k')).toBe(7);
    expect(counts.inFlight('k')).toBeUndefined();

    // A failed count is not kept, and whoever waited for it counts on its own.
    counts.track('broken', Promise.reject(new Error('connection lost')));
    expect(await counts.inFlight('broken')).toBeUndefined();
    expect(counts.get('broken')).toBeUndefined();
    expect(counts.inFlight('broken')).toBeUndefined();

    const off = new ListCountCache(0, new ManualClock());
    off.track('k', Promise.resolve(1));
    expect(off.inFlight('k')).toBeUndefined();
    expect(off.get('k')).toBeUndefined();
  });

  it('gives every one of many concurrent first requests the right total', async () => {
    const cached = await buildTestApp({ env: { LIST_COUNT_CACHE_SECONDS: '2' }, database: ctx.database, clock: ctx.clock });
    try {
      const organizerOfRush = await createOrganizer(cached.app);
      const location = `Rushtown-${Date.now()}`;
      for (let i = 0; i < 3; i++) await createEvent(cached.app, organizerOfRush, { location });
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) => cached.app.inject({ url: `/events/?location=${location}&page_size=${1 + (i % 3)}` })),
      );
      expect(answers.map((res) => res.json<{ count: number }>().count)).toEqual(Array(12).fill(3));
      expect(answers.map((res) => res.json<{ results: unknown[] }>().results.length)).toEqual(
        Array.from({ length: 12 }, (_, i) => 1 + (i % 3)),
      );
    } finally {
      await cached.close();
    }
  });
});
