import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { Database } from '../src/db/client.js';
import { ManualClock } from '../src/lib/clock.js';
import { createSuperuser } from '../src/modules/users/users.service.js';

/**
 * A demo a newcomer can explore: staff, organizers and attendees, 50 upcoming events in several categories,
 * registrations, a sold-out event with a waiting list, and past events with feedback.
 *
 * Everything except the staff user goes through the API itself (app.inject), so the demo obeys every rule the
 * API enforces (seats, tickets, waiting list, notifications). Past events are made by running the API on a clock
 * set a month back, then moving it to now.
 */
export const DEMO_PASSWORD = 'Demo-Passphrase-2026';

export class DatabaseNotEmptyError extends Error {}

export interface DemoLogin {
  role: string;
  email: string;
  username: string;
}

const DAY = 24 * 3600 * 1000;
const HOUR = 3600 * 1000;

const staff = { email: 'admin@example.com', username: 'admin' };
const organizers = [
  { email: 'aurora@example.com', username: 'aurora_concerts' },
  { email: 'devhub@example.com', username: 'devhub_meetups' },
  { email: 'greenfield@example.com', username: 'greenfield_club' },
];
const attendees = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'].map((name) => ({
  email: `${name}@example.com`,
  username: name,
}));

const categories = ['Music', 'Technology', 'Sports', 'Food & Drink', 'Arts', 'Workshops'];

/** Per category: title stems, locations, and the organizer (index into `organizers`) who runs them. */
const themes: Record<string, { titles: string[]; locations: string[]; organizer: number }> = {
  Music: {
    titles: ['Jazz Night', 'String Quartet Evening', 'Indie Showcase', 'Open Mic'],
    locations: ['Blue Note Hall, Lyon', 'Riverside Stage, Porto', 'The Cellar, Berlin'],
    organizer: 0,
  },
  Technology: {
    titles: ['TypeScript Meetup', 'PostgreSQL Users Group', 'Web Performance Clinic', 'AI in Practice'],
    locations: ['DevHub Loft, Amsterdam', 'Station F, Paris', 'Online'],
    organizer: 1,
  },
  Sports: {
    titles: ['Sunday 10K Run', 'Beginners Climbing', 'Five-a-side Tournament'],
    locations: ['City Park, Ghent', 'Boulder Gym, Zürich', 'Greenfield Pitch, Leeds'],
    organizer: 2,
  },
  'Food & Drink': {
    titles: ['Natural Wine Tasting', 'Street Food Market', 'Sourdough Masterclass'],
    locations: ['Le Comptoir, Bordeaux', 'Harbour Square, Bilbao', 'Bakehouse, Copenhagen'],
    organizer: 2,
  },
  Arts: {
    titles: ['Gallery Late', 'Life Drawing', 'Poetry Slam'],
    locations: ['Modern Art Museum, Vienna', 'Studio 4, Lisbon', 'Café Crème, Brussels'],
    organizer: 0,
  },
  Workshops: {
    titles: ['Public Speaking Workshop', 'Intro to Pottery', 'Photography Walk'],
    locations: ['Library Hall, Utrecht', 'Clay Studio, Bologna', 'Old Town, Kraków'],
    organizer: 1,
  },
};

/** Deterministic pseudo-random numbers: the same demo every time. */
function random(seed: number) {
  let state = seed;
  return (below: number) => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state % below;
  };
}

export async function seedDemo(database: Database, now = new Date()): Promise<{ logins: DemoLogin[]; counts: Record<string, number> }> {
  const existing = await database.db.execute(sql`SELECT count(*)::int AS n FROM users`);
  if (Number((existing as { rows: { n: number }[] }).rows[0]?.n ?? 0) > 0) {
    throw new DatabaseNotEmptyError(
      'The database already has users: the demo only seeds an empty database. Use a fresh DATA_DIR (or database).',
    );
  }
  const clock = new ManualClock(new Date(now.getTime() - 30 * DAY));
  const config = {
    ...loadConfig({ NODE_ENV: 'development', LOG_LEVEL: 'silent', RATE_LIMITS: 'off', PUBLIC_CACHE_SECONDS: '0' }),
    jwtSecret: 'seed-only-'.padEnd(48, 'x'),
  };
  const app = await buildApp({ config, database, clock });
  await app.ready();
  try {
    await createSuperuser(database.db, { ...staff, password: DEMO_PASSWORD }, clock.now());
    for (const o of organizers) await signUp(app, { ...o, is_organizer: true });
    for (const a of attendees) await signUp(app, { ...a, is_organizer: false });
    const tokens = new Tokens(app);

    const categoryIds = new Map<string, string>();
    for (const name of categories) {
      const category = await call<{ id: string }>(app, tokens.of(staff.email), 'POST', '/categories/', { name });
      categoryIds.set(name, category.id);
    }

    // A month ago: three events that have happened since, with their attendees.
    const past = [
      { category: 'Music', title: 'Summer Jazz Night', days: -20 },
      { category: 'Technology', title: 'TypeScript Meetup #11', days: -12 },
      { category: 'Food & Drink', title: 'Cheese & Cider Evening', days: -5 },
    ];
    const pastEvents: { id: string; attendees: string[] }[] = [];
    for (const [i, p] of past.entries()) {
      const theme = themes[p.category]!;
      const organizer = organizers[theme.organizer]!;
      const event = await call<{ id: string }>(app, tokens.of(organizer.email), 'POST', '/events/create/', {
        title: p.title,
        description: `A past ${p.category.toLowerCase()} event: its attendees left feedback.`,
        location: theme.locations[0],
        date_time: new Date(now.getTime() + p.days * DAY + 19 * HOUR).toISOString(),
        capacity: 40,
        category: categoryIds.get(p.category),
      });
      const people = attendees.slice(i, i + 5).map((a) => a.email);
      for (const email of people) await call(app, tokens.of(email), 'POST', '/registrations/', { event: event.id, quantity: 1 });
      pastEvents.push({ id: event.id, attendees: people });
    }

    clock.set(now);
    tokens.forget();
    const comments = [
      'Wonderful evening, well organized.',
      'Great speakers, the room was a bit small.',
      'Would come again!',
      'Good, but it started late.',
      'Loved it.',
    ];
    for (const [i, event] of pastEvents.entries()) {
      for (const [j, email] of event.attendees.entries()) {
        if (j === 4) continue; // not everyone leaves feedback
        await call(app, tokens.of(email), 'POST', '/feedbacks/', {
          event: event.id,
          rating: 5 - ((i + j) % 3),
          comment: comments[(i + j) % comments.length],
        });
      }
    }

    // The coming weeks: 50 events across the categories, a few of them selling out soon.
    const pick = random(42);
    const upcoming: { id: string; capacity: number }[] = [];
    for (let n = 0; n < 50; n++) {
      const categoryName = categories[n % categories.length]!;
      const theme = themes[categoryName]!;
      const organizer = organizers[theme.organizer]!;
      const start = new Date(now.getTime() + (1 + Math.floor((n * 56) / 50)) * DAY);
      start.setUTCHours(9 + pick(11), pick(2) * 30, 0, 0);
      const capacity = [20, 30, 50, 80, 120, 200][pick(6)]!;
      const event = await call<{ id: string }>(app, tokens.of(organizer.email), 'POST', '/events/create/', {
        title: `${theme.titles[n % theme.titles.length]} #${Math.floor(n / categories.length) + 1}`,
        description: `${categoryName} in ${theme.locations[n % theme.locations.length]!.split(',').pop()!.trim()}. Bring a friend.`,
        location: theme.locations[n % theme.locations.length],
        date_time: start.toISOString(),
        end_time: new Date(start.getTime() + (2 + pick(3)) * HOUR).toISOString(),
        capacity,
        event_ticket_sells_off_soon: n % 7 === 0 ? Math.ceil(capacity / 4) : 0,
        category: categoryIds.get(categoryName),
      });
      upcoming.push({ id: event.id, capacity });
    }
    for (const [i, attendee] of attendees.entries()) {
      for (let k = 0; k < 5; k++) {
        const event = upcoming[(i * 7 + k * 11) % upcoming.length]!;
        await call(app, tokens.of(attendee.email), 'POST', '/registrations/', { event: event.id, quantity: 1 + pick(3) });
      }
    }

    // Sold out, with a waiting list: four seats, taken by the first three attendees; the next two wait.
    const full = await call<{ id: string }>(app, tokens.of(organizers[1]!.email), 'POST', '/events/create/', {
      title: 'Sold-out Workshop: Fastify in Depth',
      description: 'Four seats only. Cancel a registration to see the waiting list move.',
      location: 'DevHub Loft, Amsterdam',
      date_time: new Date(now.getTime() + 10 * DAY + 14 * HOUR).toISOString(),
      capacity: 4,
      category: categoryIds.get('Workshops'),
    });
    for (const [i, attendee] of attendees.slice(0, 5).entries()) {
      await call(app, tokens.of(attendee.email), 'POST', '/registrations/', { event: full.id, quantity: i === 0 ? 2 : 1 });
    }

    const counts: Record<string, number> = {};
    for (const table of ['users', 'categories', 'events', 'registrations', 'tickets', 'feedbacks', 'notifications']) {
      const result = await database.db.execute(sql.raw(`SELECT count(*)::int AS n FROM ${table}`));
      counts[table] = Number((result as { rows: { n: number }[] }).rows[0]!.n);
    }
    const logins: DemoLogin[] = [
      { role: 'staff', ...staff },
      ...organizers.map((o) => ({ role: 'organizer', ...o })),
      ...attendees.map((a) => ({ role: 'attendee', ...a })),
    ];
    return { logins, counts };
  } finally {
    await app.close();
  }
}

async function signUp(app: FastifyInstance, user: { email: string; username: string; is_organizer: boolean }): Promise<void> {
  await call(app, undefined, 'POST', '/auth/register/', { ...user, password: DEMO_PASSWORD, password2: DEMO_PASSWORD });
}

/** Access tokens by email, logged in once per clock setting (a token issued a month back has expired now). */
class Tokens {
  private readonly cache = new Map<string, Promise<string>>();
  constructor(private readonly app: FastifyInstance) {}
  of(email: string): Promise<string> {
    let token = this.cache.get(email);
    if (!token) {
      token = call<{ access: string }>(this.app, undefined, 'POST', '/auth/login/', { email, password: DEMO_PASSWORD }).then(
        (t) => t.access,
      );
      this.cache.set(email, token);
    }
    return token;
  }
  forget(): void {
    this.cache.clear();
  }
}

async function call<T = unknown>(
  app: FastifyInstance,
  token: Promise<string> | undefined,
  method: 'POST',
  url: string,
  payload: object,
): Promise<T> {
  const headers = token ? { authorization: `Bearer ${await token}` } : {};
  const res = await app.inject({ method, url, payload, headers });
  if (res.statusCode >= 300) throw new Error(`${method} ${url} answered ${res.statusCode}: ${res.body}`);
  return res.json<T>();
}
