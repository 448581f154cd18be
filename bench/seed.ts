// Bulk seeding for the benchmark: a handful of INSERT … SELECT FROM generate_series statements, straight into a
// migrated database (PostgreSQL or PGlite). Ids are derived from row numbers (benchUuid), so rows refer to each
// other without lookups and the harness knows every id without asking the database.
import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Database, Db } from '../src/db/client.js';

export interface SeedSizes {
  users: number;
  events: number;
  registrations: number;
  feedbacks: number;
}

export const FULL_SIZES: SeedSizes = { users: 10_000, events: 100_000, registrations: 200_000, feedbacks: 50_000 };
export const QUICK_SIZES: SeedSizes = { users: 1_000, events: 10_000, registrations: 20_000, feedbacks: 5_000 };

export const BENCH_PASSWORD = 'bench-Password-4821';
/** Users 1..HEAVY_USERS hold REGISTRATIONS_PER_HEAVY_USER registrations each (scenario 5). */
export const HEAVY_USERS = 20;
export const REGISTRATIONS_PER_HEAVY_USER = 50;
/** Every ORGANIZER_EVERY-th user is an organizer; events are spread over them. */
const ORGANIZER_EVERY = 50;
export const RACE_USERS = 500;
export const RACE_CAPACITY = 100;
/** Event number 0 is outside the bulk range: the one event of the registration race. */
export const RACE_EVENT_NUMBER = 0;
/**
 * One race lasts under a second, so one figure is mostly noise: it is run this many times, by the same users, each
 * time on its own event (round 0 on event 0, round r on event -1 - r), and the median round is reported.
 */
export const RACE_ROUNDS = 3;
export const raceEventNumber = (round: number) => (round === 0 ? RACE_EVENT_NUMBER : -1 - round);
/**
 * Event number -1, also outside the bulk range: a smaller race run just before the timed one, by other users, so
 * the timed race meets a warm server (JIT-compiled code, statements planned on pooled connections), as every
 * other scenario does after its warm-up seconds and as a live server would be.
 */
export const WARMUP_RACE_EVENT_NUMBER = -1;
export const WARMUP_RACE_USERS = 200;
export const WARMUP_RACE_CAPACITY = 40;

/**
 * The ticket drop (issue 18): every user of the bench (10,000 in a full run) sends one order for one seat of an event
 * with a tenth as many seats, over DROP_CONNECTIONS connections at once. Run DROP_ROUNDS times, each round on its
 * own event (numbers -10, -11, …), and once more against two server instances (event -20).
 */
export const DROP_ROUNDS = 3;
export const DROP_CONNECTIONS = 1_000;
export const dropEventNumber = (round: number) => -10 - round;
export const PAIR_DROP_EVENT_NUMBER = -20;
/** Untimed drops just before the timed ones, by users 1..DROP_WARMUP_USERS, so each server meets them warm. */
export const DROP_WARMUP_EVENT_NUMBER = -21;
export const PAIR_WARMUP_EVENT_NUMBER = -22;
export const DROP_WARMUP_USERS = 200;
export const dropSize = (sizes: SeedSizes) => ({ users: sizes.users, capacity: Math.floor(sizes.users / 10) });
/** Users 1..HEAVY_USERS also have this many notifications each (the signed-in notifications scenario). */
export const NOTIFICATIONS_PER_HEAVY_USER = 100;

export const CATEGORY_NAMES = [
  'Music',
  'Technology',
  'Business',
  'Arts',
  'Sports',
  'Food and Drink',
  'Health',
  'Science',
  'Education',
  'Film',
  'Literature',
  'Fashion',
  'Gaming',
  'Travel',
  'Charity',
  'Family',
  'Photography',
  'Dance',
  'Theatre',
  'Comedy',
];
export const categorySlug = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-');

export const ADJECTIVES = ['Annual', 'Spring', 'Global', 'Local', 'Summer', 'Winter', 'Open', 'Grand', 'Weekly', 'Autumn'];
/** Title words: `?search=` in scenario 2 looks for these. */
export const TOPICS = [
  'Jazz',
  'Python',
  'Startup',
  'Yoga',
  'Robotics',
  'Poetry',
  'Marathon',
  'Wine',
  'Chess',
  'Cloud',
  'Design',
  'Data',
  'Salsa',
  'Cinema',
  'Blockchain',
  'Pottery',
  'Climate',
  'Gospel',
  'Drone',
  'Sushi',
  'Mindfulness',
  'Hiphop',
  'Security',
  'Knitting',
  'Astronomy',
];
export const KINDS = ['Bootcamp', 'Summit', 'Workshop', 'Festival', 'Meetup', 'Conference', 'Night', 'Masterclass'];
const CITIES = [
  'Lagos, Nigeria',
  'Nairobi, Kenya',
  'Accra, Ghana',
  'Berlin, Germany',
  'Lisbon, Portugal',
  'São Paulo, Brazil',
  'Montréal, Canada',
  'Kraków, Poland',
  'Osaka, Japan',
  'Austin, USA',
  'Cape Town, South Africa',
  'Zürich, Switzerland',
];

/** The uuid of row `n` of a kind: md5 of `bench-<kind>-<n>`, as PostgreSQL's `md5(…)::uuid` (uuidSql) computes it. */
export function benchUuid(kind: string, n: number): string {
  const h = createHash('md5').update(`bench-${kind}-${n}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const uuidSql = (kind: string, n: string) => `md5('bench-${kind}-' || (${n}))::uuid`;

const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;
const textArray = (values: string[]) => `ARRAY[${values.map(literal).join(',')}]`;

/**
 * Fills a freshly migrated database; returns the row counts actually written. `onStep` hears each statement's
 * duration (the harness logs them, so a slow step shows).
 */
export async function seed(
  database: Database,
  sizes: SeedSizes,
  passwordHash: string,
  onStep: (step: string, ms: number) => void = () => {},
): Promise<Record<string, number>> {
  // One session throughout: session_replication_role below must hold for every statement.
  if (database.pool) {
    const client = await database.pool.connect();
    try {
      return await seedSession(drizzle(client) as unknown as Db, sizes, passwordHash, onStep);
    } finally {
      client.release();
    }
  }
  return seedSession(database.db, sizes, passwordHash, onStep);
}

async function seedSession(
  db: Db,
  sizes: SeedSizes,
  passwordHash: string,
  onStep: (step: string, ms: number) => void,
): Promise<Record<string, number>> {
  const run = async (statement: string) => {
    const started = performance.now();
    await db.execute(sql.raw(statement));
    onStep(/^\s*(\w+(?: INTO)? \w+)/.exec(statement)?.[1] ?? statement.trim().slice(0, 40), performance.now() - started);
  };
  // Skipping foreign-key triggers halves the time; the ids are correct by construction. Needs a superuser;
  // without one the checks simply run.
  const skipTriggers = await db.execute(sql`SET session_replication_role = replica`).then(
    () => true,
    () => false,
  );
  try {
    await insertRows(sizes, passwordHash, run);
  } finally {
    if (skipTriggers) await db.execute(sql`RESET session_replication_role`);
  }
  // The events' words, as event_words_sync (migration 0013) keeps them when its trigger is not skipped.
  await run(`INSERT INTO search_words (word) SELECT DISTINCT w FROM events, search_text_words(events.search_text) AS w
             ON CONFLICT DO NOTHING`);
  await run(`INSERT INTO event_words (event_id, word, category_id, date_time, is_active)
             SELECT e.id, w, e.category_id, e.date_time, e.is_active FROM events e, search_text_words(e.search_text) AS w
             ON CONFLICT DO NOTHING`);
  await run('VACUUM ANALYZE');

  const counts: Record<string, number> = {};
  for (const table of ['users', 'categories', 'events', 'registrations', 'tickets', 'feedbacks']) {
    const result = await db.execute(sql.raw(`SELECT count(*)::int AS n FROM ${table}`));
    counts[table] = Number((result as { rows: { n: number }[] }).rows[0]!.n);
  }
  return counts;
}

async function insertRows(sizes: SeedSizes, passwordHash: string, run: (statement: string) => Promise<void>) {
  const { users: U, events: E, registrations: R, feedbacks: F } = sizes;
  if (U < RACE_USERS + WARMUP_RACE_USERS + HEAVY_USERS) {
    throw new Error(`the benchmark needs at least ${RACE_USERS + WARMUP_RACE_USERS + HEAVY_USERS} users`);
  }
  const organizers = Math.floor(U / ORGANIZER_EVERY);

  await run(`
    INSERT INTO users (id, email, username, password_hash, is_organizer, date_joined)
    SELECT ${uuidSql('user', 'g')}, 'user' || g || '@bench.example', 'user' || g, ${literal(passwordHash)},
           g % ${ORGANIZER_EVERY} = 0, now() - g * interval '1 minute'
    FROM generate_series(1, ${U}) g`);

  await run(`
    INSERT INTO categories (id, name, slug)
    SELECT ${uuidSql('category', 'i')}, (${textArray(CATEGORY_NAMES)})[i], (${textArray(CATEGORY_NAMES.map(categorySlug))})[i]
    FROM generate_series(1, ${CATEGORY_NAMES.length}) i`);

  // Registrations and feedbacks are drawn first into temporary tables, so each event row is written once with its
  // counters (updating 100,000 rows afterwards, through every index, took longer than the inserts).
  // Users 1..HEAVY_USERS get 50 registrations each; the rest share the remainder. A user's k-th registration is
  // for event (u*7919 + k*104729) mod E, distinct for k < 50 since 104729 is a prime not dividing E.
  const heavyTotal = HEAVY_USERS * REGISTRATIONS_PER_HEAVY_USER;
  const perUser = Math.floor((R - heavyTotal) / (U - HEAVY_USERS));
  const extra = R - heavyTotal - perUser * (U - HEAVY_USERS);
  await run(`
    CREATE TEMP TABLE bench_registrations AS
    SELECT u, k, 1 + (u::bigint * 7919 + k::bigint * 104729) % ${E} AS event_no,
           CASE WHEN (u + k) % 5 = 0 THEN 2 ELSE 1 END AS quantity,
           CASE WHEN (u + k) % 20 = 7 THEN 'cancelled' ELSE 'registered' END AS status,
           now() - ((u * 50 + k) % 100000) * interval '1 minute' AS created_at
    FROM generate_series(1, ${U}) u
    CROSS JOIN LATERAL generate_series(0, CASE WHEN u <= ${HEAVY_USERS} THEN ${REGISTRATIONS_PER_HEAVY_USER - 1}
                                              ELSE ${perUser - 1} + CASE WHEN u - ${HEAVY_USERS} <= ${extra} THEN 1 ELSE 0 END
                                         END) k`);
  // Feedback j: user 1 + j mod U on event 1 + (j*31337) mod E; DISTINCT ON keeps the pairs unique for any sizes.
  await run(`
    CREATE TEMP TABLE bench_feedbacks AS
    SELECT DISTINCT ON (user_no, event_no) * FROM (
      SELECT 1 + j % ${U} AS user_no, 1 + (j::bigint * 31337) % ${E} AS event_no, 1 + (j * 7) % 5 AS rating,
             CASE WHEN j % 3 = 0 THEN 'Great evening, well organised.' ELSE '' END AS comment,
             now() - (j % 10000) * interval '1 minute' AS created_at
      FROM generate_series(0, ${F - 1}) j) f`);

  // Dates spread from 35 days ago to a year ahead (a permutation of the row numbers), so about 9% are past;
  // every 50th event is inactive. Words, places and categories are drawn by hashing the row number, so a search
  // word and a category are independent.
  const pick = (values: string[], salt: number) =>
    `(${textArray(values)})[1 + (hashint4(g + ${salt})::bigint + 2147483648) % ${values.length}]`;
  await run(`
    INSERT INTO events (id, title, description, location, date_time, capacity, registered_count,
                        event_ticket_sells_off_soon, is_active, organizer_id, category_id, rating_sum, rating_count,
                        created_at, updated_at)
    SELECT ${uuidSql('event', 'g')},
           ${pick(ADJECTIVES, 11)} || ' ' || ${pick(TOPICS, 23)} || ' ' || ${pick(KINDS, 37)},
           'A ' || ${pick(TOPICS, 41)} || ' gathering for people who love ' || ${pick(TOPICS, 53)}
             || '. Bring friends; seats are limited.',
           ${pick(CITIES, 67)},
           date_trunc('minute', now()) - interval '35 days' + ((g::bigint * 7919) % ${E}) * (interval '400 days' / ${E}),
           greatest(c.capacity, coalesce(r.seats, 0)), coalesce(r.seats, 0), c.capacity / 10, g % 50 <> 0,
           ${uuidSql('user', `${ORGANIZER_EVERY} * (1 + g % ${organizers})`)},
           ${uuidSql('category', `1 + (hashint4(g + 79)::bigint + 2147483648) % ${CATEGORY_NAMES.length}`)},
           coalesce(f.total, 0), coalesce(f.n, 0),
           now() - (g % 1440) * interval '1 minute', now() - (g % 1440) * interval '1 minute'
    FROM generate_series(1, ${E}) g
    CROSS JOIN LATERAL (SELECT 50 + (g * 13) % 951 AS capacity) c
    LEFT JOIN (SELECT event_no, (sum(quantity) FILTER (WHERE status = 'registered'))::int AS seats
               FROM bench_registrations GROUP BY event_no) r ON r.event_no = g
    LEFT JOIN (SELECT event_no, sum(rating)::int AS total, count(*)::int AS n FROM bench_feedbacks GROUP BY event_no) f
      ON f.event_no = g`);

  await run(`
    INSERT INTO events (id, title, description, location, date_time, capacity, event_ticket_sells_off_soon, organizer_id,
                        category_id)
    VALUES (${uuidSql('event', String(RACE_EVENT_NUMBER))}, 'Benchmark Race Night', 'The registration race of scenario 6.',
            'Lagos, Nigeria', date_trunc('minute', now()) + interval '30 days', ${RACE_CAPACITY}, 10,
            ${uuidSql('user', String(ORGANIZER_EVERY))}, ${uuidSql('category', '1')}),
           ${Array.from(
             { length: RACE_ROUNDS - 1 },
             (_, i) => `(${uuidSql('event', String(raceEventNumber(i + 1)))}, 'Benchmark Race Night ${i + 2}',
            'Round ${i + 2} of the registration race of scenario 6.', 'Lagos, Nigeria', date_trunc('minute', now()) + interval '30 days',
            ${RACE_CAPACITY}, 10, ${uuidSql('user', String(ORGANIZER_EVERY))}, ${uuidSql('category', '1')}),`,
           ).join('\n           ')}
           (${uuidSql('event', String(WARMUP_RACE_EVENT_NUMBER))}, 'Benchmark Warm-up Night', 'The warm-up before scenario 6.',
            'Lagos, Nigeria', date_trunc('minute', now()) + interval '30 days', ${WARMUP_RACE_CAPACITY}, 10,
            ${uuidSql('user', String(ORGANIZER_EVERY))}, ${uuidSql('category', '1')})`);

  await run(`
    INSERT INTO registrations (id, user_id, event_id, quantity, status, created_at, updated_at, cancelled_at)
    SELECT ${uuidSql('registration', 'u * 100 + k')}, ${uuidSql('user', 'u')}, ${uuidSql('event', 'event_no')},
           quantity, status, created_at, created_at, CASE WHEN status = 'cancelled' THEN now() END
    FROM bench_registrations`);

  await run(`
    INSERT INTO tickets (registration_id, event_id, seat, code, created_at)
    SELECT r.id, r.event_id, s, 'EVT-' || upper(substr(md5(r.id::text || '-' || s), 1, 16)) || '-' || s, r.created_at
    FROM registrations r CROSS JOIN LATERAL generate_series(1, r.quantity) s
    WHERE r.status <> 'waitlisted'`);

  await run(`
    INSERT INTO feedbacks (user_id, event_id, rating, comment, created_at, updated_at)
    SELECT ${uuidSql('user', 'user_no')}, ${uuidSql('event', 'event_no')}, rating, comment, created_at, created_at
    FROM bench_feedbacks`);

  const dropEvents = [
    ...Array.from({ length: DROP_ROUNDS }, (_, round) => dropEventNumber(round)),
    PAIR_DROP_EVENT_NUMBER,
    DROP_WARMUP_EVENT_NUMBER,
    PAIR_WARMUP_EVENT_NUMBER,
  ];
  await run(`
    INSERT INTO events (id, title, description, location, date_time, capacity, event_ticket_sells_off_soon, organizer_id,
                        category_id)
    SELECT ${uuidSql('event', 'n')}, 'Benchmark Ticket Drop ' || n, 'The ticket drop of issue 18.', 'Lagos, Nigeria',
           date_trunc('minute', now()) + interval '30 days', ${dropSize(sizes).capacity}, 10,
           ${uuidSql('user', String(ORGANIZER_EVERY))}, ${uuidSql('category', '1')}
    FROM unnest(ARRAY[${dropEvents.join(',')}]) n`);

  await run(`
    INSERT INTO notifications (user_id, event_id, kind, message, is_read, created_at)
    SELECT ${uuidSql('user', 'u')}, ${uuidSql('event', `1 + (u * 7919 + k * 104729) % ${E}`)}, 'registered',
           'You have successfully registered for benchmark event ' || k || '.', k % 3 = 0,
           now() - (k * 37 + u) * interval '1 minute'
    FROM generate_series(1, ${HEAVY_USERS}) u CROSS JOIN generate_series(1, ${NOTIFICATIONS_PER_HEAVY_USER}) k`);

  await run('DROP TABLE bench_registrations, bench_feedbacks');
}

/** What the registration race left behind, read straight from the tables. */
export async function raceOutcome(database: Database, round = 0) {
  return eventOutcome(database, raceEventNumber(round));
}

/**
 * What a race or a ticket drop left behind on event number `eventNumber`, read straight from the tables;
 * `waitlistedBeforeLastSeat` counts waitlisted orders that arrived (created_at) before the last order that got a seat:
 * FIFO holds within one process's batches, while batches of two processes interleave by who locks the event first.
 */
export async function eventOutcome(database: Database, eventNumber: number) {
  const raceEvent = benchUuid('event', eventNumber);
  const result = await database.db.execute(sql`
    SELECT e.capacity, e.registered_count, e.waitlist_count,
           (SELECT coalesce(sum(quantity), 0)::int FROM registrations r WHERE r.event_id = e.id AND r.status = 'registered') AS registered_seats,
           (SELECT count(*)::int FROM registrations r WHERE r.event_id = e.id AND r.status = 'waitlisted') AS waitlisted,
           (SELECT count(DISTINCT r.user_id)::int FROM registrations r WHERE r.event_id = e.id) AS distinct_users,
           (SELECT count(*)::int FROM tickets t WHERE t.event_id = e.id) AS tickets,
           (SELECT count(DISTINCT t.code)::int FROM tickets t WHERE t.event_id = e.id) AS distinct_codes,
           (SELECT count(*)::int FROM registrations w WHERE w.event_id = e.id AND w.status = 'waitlisted'
              AND w.created_at < (SELECT max(r.created_at) FROM registrations r WHERE r.event_id = e.id AND r.status = 'registered'))
             AS waitlisted_before_last_seat
    FROM events e WHERE e.id = ${raceEvent}`);
  const row = (result as { rows: Record<string, number>[] }).rows[0]!;
  return {
    capacity: Number(row.capacity),
    registeredCount: Number(row.registered_count),
    waitlistCount: Number(row.waitlist_count),
    registeredSeats: Number(row.registered_seats),
    waitlisted: Number(row.waitlisted),
    distinctUsers: Number(row.distinct_users),
    tickets: Number(row.tickets),
    distinctCodes: Number(row.distinct_codes),
    waitlistedBeforeLastSeat: Number(row.waitlisted_before_last_seat),
  };
}
