// Migrations applied to a database that already holds events: what a migration derives from existing rows (search
// text, stored JSON, words, word months) must equal what the same rows get when created after every migration, and
// the triggers it installs must then keep it equal.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsFolder, pgliteExtensions, runMigrations, wrapPglite, type Database } from '../src/db/client.js';
import { createPostgresDatabase, createTestDatabase } from './helpers/database.js';

interface Journal {
  entries: { idx: number; tag: string }[];
}
const journal = JSON.parse(fs.readFileSync(path.join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as Journal;

/**
 * The migrations that derive data from existing events, each a point to upgrade across: 0010 (search_text), 0011
 * (api_json), 0013 (event_words and search_words), 0015 (the words split at punctuation, rebuilt) and 0016
 * (event_word_months).
 */
const UPGRADES_ACROSS = [
  '0010_event_search_text',
  '0011_event_api_json',
  '0013_event_words',
  '0015_event_words_split_at_punctuation',
  '0016_event_word_months',
];

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-upgrade-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** A migrations folder holding the committed migrations before `tag` only. */
function migrationsBefore(tag: string): string {
  const cut = journal.entries.findIndex((entry) => entry.tag === tag);
  expect(cut, tag).toBeGreaterThan(0);
  const folder = path.join(scratch, `before-${tag}`);
  fs.mkdirSync(path.join(folder, 'meta'), { recursive: true });
  const entries = journal.entries.slice(0, cut);
  for (const entry of entries) fs.copyFileSync(path.join(migrationsFolder, `${entry.tag}.sql`), path.join(folder, `${entry.tag}.sql`));
  fs.writeFileSync(path.join(folder, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries }));
  return folder;
}

/** A database with nothing in it, not even the migrations' bookkeeping. */
async function emptyDatabase(): Promise<Database> {
  if (process.env.TEST_DATABASE_URL) return createPostgresDatabase('up_', undefined, 2);
  return wrapPglite(await PGlite.create({ extensions: pgliteExtensions }));
}

const id = (n: number) => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
const ORGANIZER = id(1);
const MUSIC = id(2);
const TALKS = id(3);
const CREATED = '2029-06-01T08:00:00Z';

/** Words across punctuation and accents, two categories and none, months' edges, one unpublished event. */
const EVENTS = [
  {
    title: 'Jazz. Night',
    description: 'jazz, jazz & more jazz',
    location: 'Berlin, Germany',
    at: '2030-01-31T23:59:59.999Z',
    category: MUSIC,
  },
  {
    title: "O'Reilly Summit",
    description: 'e_commerce; data-science',
    location: 'São Paulo, Brazil',
    at: '2030-02-01T00:00:00Z',
    category: TALKS,
  },
  { title: 'Café—Nights', description: 'Crème brûlée. Ünïcode ﬁne', location: 'Zürich', at: '2030-02-14T12:00:00Z', category: MUSIC },
  { title: '½ marathon', description: 'Rock & Roll: live!', location: 'Lagos', at: '2030-03-01T00:00:00Z', category: null },
  { title: 'Jazz Brunch', description: '', location: 'Berlin', at: '2030-03-31T10:00:00Z', category: MUSIC, active: false },
  { title: 'jazz-funk (late)', description: 'JAZZ', location: 'Paris', at: '2031-01-01T00:00:00Z', category: TALKS },
];

/** Rows written with the columns every migration has had (0000), so they fit a database at any step. */
async function insertEvents(database: Database): Promise<void> {
  const { db } = database;
  await db.execute(sql`insert into users (id, email, username, password_hash) values (${ORGANIZER}, 'o@example.com', 'organizer', 'x')`);
  await db.execute(sql`insert into categories (id, name, slug) values (${MUSIC}, 'Music', 'music'), (${TALKS}, 'Talks', 'talks')`);
  for (const [i, event] of EVENTS.entries()) {
    await db.execute(sql`insert into events (id, title, description, location, date_time, capacity, is_active, organizer_id,
        category_id, created_at, updated_at)
      values (${id(100 + i)}, ${event.title}, ${event.description}, ${event.location}, ${event.at}, 10, ${event.active ?? true},
        ${ORGANIZER}, ${event.category}, ${CREATED}, ${CREATED})`);
  }
}

/** The same changes on any database: a new title, a move across months, another category, unpublished, deleted, added. */
async function changeEvents(database: Database): Promise<void> {
  const { db } = database;
  await db.execute(sql`update events set title = 'Waltz. Evening' where id = ${id(100)}`);
  await db.execute(sql`update events set date_time = '2030-05-01T00:00:00Z' where id = ${id(101)}`);
  await db.execute(sql`update events set category_id = ${TALKS} where id = ${id(102)}`);
  await db.execute(sql`update events set is_active = false where id = ${id(103)}`);
  await db.execute(sql`delete from events where id = ${id(105)}`);
  await db.execute(sql`insert into events (id, title, description, location, date_time, capacity, organizer_id, category_id,
      created_at, updated_at)
    values (${id(200)}, 'Jazz… again', 'brûlée', 'Berlin', '2030-02-28T23:59:59Z', 5, ${ORGANIZER}, ${MUSIC}, ${CREATED}, ${CREATED})`);
}

/** Everything derived from the events, in a fixed order, instants as epoch seconds (the session's zone may differ). */
async function derivedData(database: Database) {
  const rows = async (query: SQL) => {
    const result = await database.db.execute(query);
    return (result as { rows: Record<string, unknown>[] }).rows;
  };
  return {
    events: await rows(sql`select id, search_text, api_json from events order by id`),
    eventWords: await rows(sql`select event_id, word, category_id, extract(epoch from date_time)::text as at, is_active
      from event_words order by event_id, word`),
    searchWords: await rows(sql`select word from search_words order by word`),
    // A month whose events all left keeps its row at 0.
    wordMonths: await rows(sql`select word, category_id, is_active, extract(epoch from month)::text as month, events
      from event_word_months where events <> 0 order by word, category_id, is_active, month`),
  };
}

describe('upgrading a database that holds events', () => {
  let fresh: Database;
  let expected: Awaited<ReturnType<typeof derivedData>>;
  let expectedAfterChanges: Awaited<ReturnType<typeof derivedData>>;
  beforeAll(async () => {
    fresh = await createTestDatabase();
    await insertEvents(fresh);
    expected = await derivedData(fresh);
    await changeEvents(fresh);
    expectedAfterChanges = await derivedData(fresh);
  });
  afterAll(async () => fresh.close());

  it('the reference holds what the upgrades must reproduce', () => {
    // Guards the comparison itself: words split at punctuation, accents removed, months counted.
    expect(expected.searchWords).toEqual(
      expect.arrayContaining([{ word: 'jazz' }, { word: 'reilly' }, { word: 'cafe' }, { word: 'commerce' }]),
    );
    expect(expected.eventWords.filter((row) => (row as { word: string }).word === 'jazz')).toHaveLength(3);
    expect(expected.wordMonths.length).toBeGreaterThan(10);
    expect(expectedAfterChanges).not.toEqual(expected);
  });

  for (const tag of UPGRADES_ACROSS) {
    it(`across ${tag}: the events' derived data equals a fresh database's, and the installed triggers keep it so`, async () => {
      const database = await emptyDatabase();
      try {
        await runMigrations(database, migrationsBefore(tag));
        await insertEvents(database);
        await runMigrations(database);
        expect(await derivedData(database)).toEqual(expected);
        await changeEvents(database);
        expect(await derivedData(database)).toEqual(expectedAfterChanges);
      } finally {
        await database.close();
      }
    });
  }
});
