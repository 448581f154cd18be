// The benchmark's scenarios (issue 6): what each one requests, and which API route it needs.
import type { LoadRequest, LoadSpec } from './load.js';
import {
  BENCH_PASSWORD,
  CATEGORY_NAMES,
  HEAVY_USERS,
  RACE_ROUNDS,
  RACE_USERS,
  TOPICS,
  ADJECTIVES,
  KINDS,
  WARMUP_RACE_EVENT_NUMBER,
  WARMUP_RACE_USERS,
  DROP_CONNECTIONS,
  DROP_ROUNDS,
  DROP_WARMUP_EVENT_NUMBER,
  DROP_WARMUP_USERS,
  PAIR_DROP_EVENT_NUMBER,
  PAIR_WARMUP_EVENT_NUMBER,
  benchUuid,
  dropEventNumber,
  raceEventNumber,
  categorySlug,
  type SeedSizes,
} from './seed.js';

export interface ScenarioContext {
  sizes: SeedSizes;
  /** A valid access token for bench user number n. */
  token: (n: number) => string;
}

export interface Scenario {
  id: string;
  /** The number for it (B0 is also scenario 7). */
  aliases: string[];
  label: string;
  /** `METHOD /openapi/path/`; the scenario is skipped when the running server does not document it. Ceilings have none. */
  route?: string;
  /** Ceilings are not compared with B1. */
  ceiling?: boolean;
  /** Sends each request once (`amount`) instead of running for the configured duration. */
  once?: boolean;
  /** Slow requests need a longer window than --quick's, or the few that finish in it say little. */
  minDurationSeconds?: number;
  /** For a `once` scenario: how many times it is run (round 0, 1, …); the median round is reported. */
  rounds?: number;
  load(ctx: ScenarioContext, round: number): Pick<LoadSpec, 'method' | 'requests'>;
  /** For a `once` scenario: requests sent (each once, untimed) just before it, to warm the server up. */
  warmup?(ctx: ScenarioContext): Pick<LoadSpec, 'method' | 'requests'>;
  /**
   * Which server answers: the default one (PUBLIC_CACHE_SECONDS=1, as shipped), one with the anonymous micro-cache
   * off (`uncached`), or two instances on one PostgreSQL with the load split between them (`pair`).
   */
  server?: ServerProfile;
  /** Connections at once (default: --connections). */
  connections?: number;
}

export type ServerProfile = 'default' | 'uncached' | 'pair';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
/** Signed-in scenarios take turns among these users (none is an organizer: every 50th user is). */
const signedInUsers = range(101, 400).filter((n) => n % 50 !== 0);
const signedIn = (ctx: ScenarioContext, i: number) => bearer(ctx.token(signedInUsers[i % signedInUsers.length]!));

/** One order for one seat of event `eventNumber` from each of users 1..count. */
const dropOrders = ({ token }: ScenarioContext, eventNumber: number, count: number): Pick<LoadSpec, 'method' | 'requests'> => ({
  method: 'POST',
  requests: range(1, count).map((n) => ({
    path: '/registrations/',
    headers: bearer(token(n)),
    body: JSON.stringify({ event: benchUuid('event', eventNumber), quantity: 1 }),
  })),
});

/** Every part of three or more letters of the seed's title words (lower-cased), each once. */
function searchParts(): string[] {
  const parts = new Set<string>();
  for (const word of [...TOPICS, ...ADJECTIVES, ...KINDS].map((w) => w.toLowerCase())) {
    for (let from = 0; from < word.length; from++) for (let to = from + 3; to <= word.length; to++) parts.add(word.slice(from, to));
  }
  return [...parts].sort();
}

/** The same order on every run (a fixed-seed Fisher-Yates shuffle). */
function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  let seed = 20_261_130;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 48_271) % 2_147_483_647;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export const scenarios: Scenario[] = [
  {
    id: 'b0',
    aliases: ['7', 'B0'],
    label: 'B0 bare route: event JSON from memory',
    ceiling: true,
    load: () => ({ method: 'GET', requests: [{ path: '/bench/bare/' }] }),
  },
  {
    id: 'b1',
    aliases: ['B1'],
    label: 'B1 one SELECT 1 through the pool',
    ceiling: true,
    load: () => ({ method: 'GET', requests: [{ path: '/bench/select1/' }] }),
  },
  {
    id: 'b2',
    aliases: ['B2'],
    label: 'B2 bare route: a 76 KB page of 100 events from memory',
    ceiling: true,
    load: () => ({ method: 'GET', requests: [{ path: '/bench/bare-page/' }] }),
  },
  {
    id: 'events_list',
    aliases: ['1'],
    label: '1 GET /events/?page_size=100',
    route: 'GET /events/',
    load: () => ({ method: 'GET', requests: [{ path: '/events/?page_size=100' }] }),
  },
  {
    id: 'events_search',
    aliases: ['2'],
    label: '2 GET /events/?search=<word>&category=<slug>',
    route: 'GET /events/',
    load: () => ({
      method: 'GET',
      requests: TOPICS.map((topic, i) => ({
        path: `/events/?search=${topic.toLowerCase()}&category=${categorySlug(CATEGORY_NAMES[(i * 3) % CATEGORY_NAMES.length]!)}`,
      })),
    }),
  },
  {
    id: 'event_detail',
    aliases: ['3'],
    label: '3 GET /events/<uuid>/',
    route: 'GET /events/{}/',
    load: ({ sizes }) => ({
      method: 'GET',
      // Active events only (every 50th is inactive and answers 404 to the public).
      requests: range(1, Math.min(1000, sizes.events))
        .filter((n) => n % 50 !== 0)
        .map((n) => ({ path: `/events/${benchUuid('event', n)}/` })),
    }),
  },
  {
    id: 'login',
    aliases: ['4'],
    label: '4 POST /auth/login/',
    route: 'POST /auth/login/',
    minDurationSeconds: 5,
    load: () => ({
      method: 'POST',
      requests: range(HEAVY_USERS + 1, 500).map((n) => ({
        path: '/auth/login/',
        body: JSON.stringify({ email: `user${n}@bench.example`, password: BENCH_PASSWORD }),
      })),
    }),
  },
  {
    id: 'registrations_mine',
    aliases: ['5'],
    label: '5 GET /registrations/mine/ (50 registrations)',
    route: 'GET /registrations/mine/',
    load: ({ token }) => ({
      method: 'GET',
      requests: range(1, HEAVY_USERS).map((n): LoadRequest => ({ path: '/registrations/mine/', headers: bearer(token(n)) })),
    }),
  },
  {
    id: 'registration_race',
    aliases: ['6'],
    label: `6 POST /registrations/: ${RACE_USERS} users race for 100 seats`,
    route: 'POST /registrations/',
    once: true,
    rounds: RACE_ROUNDS,
    load: ({ sizes, token }, round) => ({
      method: 'POST',
      requests: range(sizes.users - RACE_USERS + 1, RACE_USERS).map((n) => ({
        path: '/registrations/',
        headers: bearer(token(n)),
        body: JSON.stringify({ event: benchUuid('event', raceEventNumber(round)), quantity: 1 }),
      })),
    }),
    // Users just past the heavy ones, well clear of the racers (the last RACE_USERS).
    warmup: ({ token }) => ({
      method: 'POST',
      requests: range(HEAVY_USERS + 1, WARMUP_RACE_USERS).map((n) => ({
        path: '/registrations/',
        headers: bearer(token(n)),
        body: JSON.stringify({ event: benchUuid('event', WARMUP_RACE_EVENT_NUMBER), quantity: 1 }),
      })),
    }),
  },
  // Issue 18: signed-in pages (the micro-cache never answers a request with a token, and is off on this server).
  {
    id: 'signed_events_list',
    aliases: ['s1'],
    label: 's1 signed in, no cache: GET /events/?page_size=100',
    route: 'GET /events/',
    server: 'uncached',
    load: (ctx) => ({
      method: 'GET',
      requests: signedInUsers.map((_, i) => ({ path: '/events/?page_size=100', headers: signedIn(ctx, i) })),
    }),
  },
  {
    id: 'signed_events_search',
    aliases: ['s2'],
    label: 's2 signed in, no cache: GET /events/?search=<word>&category=<slug>, 500 different queries',
    route: 'GET /events/',
    server: 'uncached',
    load: (ctx) => ({
      method: 'GET',
      requests: TOPICS.flatMap((topic, t) =>
        CATEGORY_NAMES.map((category, c) => ({
          path: `/events/?search=${topic.toLowerCase()}&category=${categorySlug(category)}`,
          headers: signedIn(ctx, t * CATEGORY_NAMES.length + c),
        })),
      ),
    }),
  },
  {
    id: 'signed_events_search_unrepeated',
    aliases: ['s2u'],
    label: `s2u signed in, no cache: GET /events/?search=<part of a title word>&category=<slug>, ${searchParts().length * CATEGORY_NAMES.length} different queries in turn`,
    route: 'GET /events/',
    server: 'uncached',
    // Issue 18 asks for searches "that are not repeated, so no cache can help": s2's 500 come round every fraction of
    // a second, within the list count's lifetime (LIST_COUNT_CACHE_SECONDS, 2 s) and the page memo's reach. These come
    // round only after several seconds, shuffled, so neither the count, nor the page, nor most events' JSON is
    // remembered from the last time.
    load: (ctx) => ({
      method: 'GET',
      requests: shuffled(searchParts().flatMap((part) => CATEGORY_NAMES.map((category) => ({ part, category })))).map(
        ({ part, category }, i) => ({
          path: `/events/?search=${part}&category=${categorySlug(category)}`,
          headers: signedIn(ctx, i),
        }),
      ),
    }),
  },
  {
    id: 'signed_event_detail',
    aliases: ['s3'],
    label: 's3 signed in, no cache: GET /events/<uuid>/',
    route: 'GET /events/{}/',
    server: 'uncached',
    load: (ctx) => ({
      method: 'GET',
      requests: range(1, Math.min(1000, ctx.sizes.events))
        .filter((n) => n % 50 !== 0)
        .map((n, i) => ({ path: `/events/${benchUuid('event', n)}/`, headers: signedIn(ctx, i) })),
    }),
  },
  {
    id: 'signed_registrations_mine',
    aliases: ['s5'],
    label: 's5 signed in, no cache: GET /registrations/mine/ (50 registrations)',
    route: 'GET /registrations/mine/',
    server: 'uncached',
    load: ({ token }) => ({
      method: 'GET',
      requests: range(1, HEAVY_USERS).map((n): LoadRequest => ({ path: '/registrations/mine/', headers: bearer(token(n)) })),
    }),
  },
  {
    id: 'signed_notifications',
    aliases: ['s6'],
    label: 's6 signed in, no cache: GET /notifications/?page_size=50 (100 notifications)',
    route: 'GET /notifications/',
    server: 'uncached',
    load: ({ token }) => ({
      method: 'GET',
      requests: range(1, HEAVY_USERS).map((n): LoadRequest => ({ path: '/notifications/?page_size=50', headers: bearer(token(n)) })),
    }),
  },
  {
    id: 'ticket_drop',
    aliases: ['drop', '8'],
    label: `8 ticket drop: every user orders one seat of an event with a tenth as many, ${DROP_CONNECTIONS} connections`,
    route: 'POST /registrations/',
    once: true,
    rounds: DROP_ROUNDS,
    connections: DROP_CONNECTIONS,
    load: (ctx, round) => dropOrders(ctx, dropEventNumber(round), ctx.sizes.users),
    warmup: (ctx) => dropOrders(ctx, DROP_WARMUP_EVENT_NUMBER, DROP_WARMUP_USERS),
  },
  {
    id: 'ticket_drop_pair',
    aliases: ['drop2', '9'],
    label: `9 ticket drop on two server instances (2 workers each, one PostgreSQL), the connections split between them`,
    route: 'POST /registrations/',
    once: true,
    server: 'pair',
    connections: DROP_CONNECTIONS,
    load: (ctx) => dropOrders(ctx, PAIR_DROP_EVENT_NUMBER, ctx.sizes.users),
    warmup: (ctx) => dropOrders(ctx, PAIR_WARMUP_EVENT_NUMBER, DROP_WARMUP_USERS),
  },
];

/** `METHOD /path/` as the running server documents it, with path parameters blanked: `GET /events/{}/`. */
export const routeKey = (method: string, path: string) =>
  `${method.toUpperCase()} ${path.replace(/\{[^}]+\}/g, '{}').replace(/\/?$/, '/')}`;

export function selectScenarios(wanted: string | undefined): Scenario[] {
  if (!wanted) return scenarios;
  const names = wanted
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !scenarios.some((s) => s.id === name || s.aliases.includes(name)));
  if (unknown.length) {
    throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${scenarios.map((s) => s.id).join(', ')}`);
  }
  return scenarios.filter((s) => names.some((name) => s.id === name || s.aliases.includes(name)));
}
