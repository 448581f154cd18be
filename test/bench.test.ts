import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BENCH_PASSWORD,
  DROP_ROUNDS,
  NOTIFICATIONS_PER_HEAVY_USER,
  HEAVY_USERS,
  RACE_CAPACITY,
  RACE_EVENT_NUMBER,
  RACE_ROUNDS,
  REGISTRATIONS_PER_HEAVY_USER,
  benchUuid,
  dropEventNumber,
  dropSize,
  eventOutcome,
  raceOutcome,
  seed,
} from '../bench/seed.js';
import { runLoad } from '../bench/load.js';
import { hashPassword } from '../src/lib/passwords.js';
import { buildTestApp, type TestContext } from './helpers/app.js';

// The benchmark's own pieces: the ceiling routes behind BENCH_ROUTES, and the bulk seeding its numbers rest on.
let ctx: TestContext;
let benchCtx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp();
  benchCtx = await buildTestApp({ env: { BENCH_ROUTES: '1' }, database: ctx.database });
});
afterAll(async () => {
  await benchCtx.close();
  await ctx.close();
});

const rows = async <T>(query: ReturnType<typeof sql>) => {
  const result: unknown = await ctx.app.db.execute(query);
  return (result as { rows: T[] }).rows;
};

describe('benchmark ceiling routes', () => {
  it('do not exist unless BENCH_ROUTES is set', async () => {
    for (const url of ['/bench/bare/', '/bench/select1/', '/bench/bare-page/']) {
      expect((await ctx.app.inject({ method: 'GET', url })).statusCode).toBe(404);
    }
  });

  it('answer with BENCH_ROUTES=1: B0 an event from memory, B1 after a query, B2 a 100-event page from memory', async () => {
    const bare = await benchCtx.app.inject({ method: 'GET', url: '/bench/bare/' });
    expect(bare.statusCode).toBe(200);
    expect(bare.json()).toMatchObject({ title: 'Lagos Tech Bootcamp', capacity: 50, tickets_remaining: 38 });
    const select1 = await benchCtx.app.inject({ method: 'GET', url: '/bench/select1/' });
    expect(select1.statusCode).toBe(200);
    expect(select1.json()).toEqual({ ok: true });
    const page = await benchCtx.app.inject({ method: 'GET', url: '/bench/bare-page/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('application/json; charset=utf-8');
    // The size of the bench's 100-event page (76,427 bytes), within a few per cent.
    expect(Math.abs(page.body.length - 76_427)).toBeLessThan(2_000);
    expect(page.json<{ results: unknown[] }>().results).toHaveLength(100);
  });

  it('stay out of the OpenAPI document', async () => {
    const document = (await benchCtx.app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: object }>();
    expect(Object.keys(document.paths).some((p) => p.startsWith('/bench'))).toBe(false);
    expect(Object.keys(document.paths)).toContain('/healthz');
  });
});

describe('GET /healthz', () => {
  it('names the process that answered, so several workers can be told apart', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.json()).toEqual({ status: 'ok', pid: process.pid });
  });
});

describe('benchmark seeding', () => {
  const sizes = { users: 800, events: 6_000, registrations: 12_000, feedbacks: 3_000 };
  let counts: Record<string, number>;
  beforeAll(async () => {
    counts = await seed(ctx.database, sizes, await hashPassword(BENCH_PASSWORD));
  }, 120_000);

  it('writes the requested numbers of rows', () => {
    expect(counts).toMatchObject({
      users: sizes.users,
      categories: 20,
      // and the race's events, one per round, and its warm-up's; the ticket drop's, one per round, the two-instance
      // one and the two warm-ups
      events: sizes.events + RACE_ROUNDS + 1 + DROP_ROUNDS + 3,
      registrations: sizes.registrations,
      feedbacks: sizes.feedbacks,
    });
  });

  it('keeps every event counter equal to what its rows say, within capacity', async () => {
    const [drift] = await rows<{ seats: number; ratings: number; over: number }>(sql`
      SELECT
        count(*) FILTER (WHERE e.registered_count <> coalesce(r.seats, 0) OR e.waitlist_count <> coalesce(r.waiting, 0))::int AS seats,
        count(*) FILTER (WHERE e.rating_sum <> coalesce(f.total, 0) OR e.rating_count <> coalesce(f.n, 0))::int AS ratings,
        count(*) FILTER (WHERE e.registered_count > e.capacity)::int AS over
      FROM events e
      LEFT JOIN (SELECT event_id, sum(quantity) FILTER (WHERE status = 'registered') AS seats,
                        count(*) FILTER (WHERE status = 'waitlisted') AS waiting
                 FROM registrations GROUP BY event_id) r ON r.event_id = e.id
      LEFT JOIN (SELECT event_id, sum(rating) AS total, count(*) AS n FROM feedbacks GROUP BY event_id) f ON f.event_id = e.id`);
    expect(drift).toEqual({ seats: 0, ratings: 0, over: 0 });
  });

  it('issues one ticket per seat with unique codes', async () => {
    const [check] = await rows<{ missing: number; codes: number; tickets: number }>(sql`
      SELECT (SELECT coalesce(sum(quantity), 0) FROM registrations) - (SELECT count(*) FROM tickets) AS missing,
             (SELECT count(DISTINCT code) FROM tickets) AS codes, (SELECT count(*) FROM tickets) AS tickets`);
    expect(Number(check!.missing)).toBe(0);
    expect(Number(check!.codes)).toBe(Number(check!.tickets));
  });

  it('gives the heavy users 50 registrations each and leaves the race event empty', async () => {
    const heavy = await rows<{ n: number }>(sql`
      SELECT count(*)::int AS n FROM registrations WHERE user_id = ${benchUuid('user', 1)}
      UNION ALL SELECT count(*)::int FROM registrations WHERE user_id = ${benchUuid('user', HEAVY_USERS)}`);
    expect(heavy.map((r) => Number(r.n))).toEqual([REGISTRATIONS_PER_HEAVY_USER, REGISTRATIONS_PER_HEAVY_USER]);
    for (let round = 0; round < RACE_ROUNDS; round++) {
      expect(await raceOutcome(ctx.database, round)).toMatchObject({
        capacity: RACE_CAPACITY,
        registeredSeats: 0,
        waitlisted: 0,
        tickets: 0,
      });
    }
    expect(benchUuid('event', RACE_EVENT_NUMBER)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('gives the heavy users their notifications and leaves the ticket-drop events empty, with a tenth of the users as seats', async () => {
    const [notes] = await rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM notifications WHERE user_id = ${benchUuid('user', 1)}`);
    expect(Number(notes!.n)).toBe(NOTIFICATIONS_PER_HEAVY_USER);
    for (let round = 0; round < DROP_ROUNDS; round++) {
      expect(await eventOutcome(ctx.database, dropEventNumber(round))).toMatchObject({
        capacity: dropSize(sizes).capacity,
        registeredSeats: 0,
        waitlisted: 0,
      });
    }
    expect(dropSize(sizes).capacity).toBe(sizes.users / 10);
  });

  it('lets a seeded user log in with the bench password, under the id the harness computes', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/auth/login/',
      payload: { email: 'user42@bench.example', password: BENCH_PASSWORD },
    });
    expect(res.statusCode).toBe(200);
    const claims = ctx.app.tokens.read(res.json().access, 'access', ctx.clock.now());
    expect(claims?.sub).toBe(benchUuid('user', 42));
  });
});

describe('the load generator', () => {
  const hasWrk = (() => {
    try {
      execFileSync('wrk', ['--version'], { stdio: 'ignore' });
      return true;
    } catch (error) {
      // wrk --version prints its usage and exits 1; only a missing binary is ENOENT.
      return (error as NodeJS.ErrnoException).code !== 'ENOENT';
    }
  })();

  it.skipIf(!hasWrk)('drives wrk through 11,000 different requests (LuaJIT refuses one block that long)', async () => {
    const seen = new Set<string>();
    const server = http.createServer((request, response) => {
      seen.add(request.url!);
      response.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const result = await runLoad({
        tool: 'wrk',
        baseUrl: `http://127.0.0.1:${port}`,
        method: 'GET',
        requests: Array.from({ length: 11_000 }, (_, i) => ({ path: `/r/${i}/`, headers: { authorization: `Bearer t${i % 400}` } })),
        connections: 2,
        durationSeconds: 1,
      });
      expect(result.non2xx + result.errors).toBe(0);
      expect(result.requests).toBeGreaterThan(100);
      // Both threads walk the same list: more than one block of 1,000 requests was reached.
      expect(seen.size).toBeGreaterThan(1_000);
    } finally {
      server.close();
    }
  });
});

describe('the report table', () => {
  it('shows a cache-off scenario against its paired B1 in its own column, every row as wide as the header', async () => {
    const { formatTable } = await import('../bench/report.js');
    const scenario = (id: string, extra: object) => ({ id, label: id, status: 'ok', notes: [], ...extra });
    const table = formatTable({
      startedAt: '2026-11-30T00:00:00.000Z',
      seconds: 1,
      quick: true,
      durationSeconds: 1,
      connections: 32,
      loadGenerator: 'wrk',
      machine: { cpus: 2, cpuModel: 'test', node: 'v20', loadAverageBefore: [0, 0, 0], loadAverageAfter: [0, 0, 0] },
      commit: 'abc',
      sizes: { users: 1, events: 1, registrations: 1, feedbacks: 1 },
      argon2: { memoryKiB: 1, iterations: 1, parallelism: 1 },
      runs: [
        {
          db: 'postgres',
          workers: 2,
          seedSeconds: 1,
          counts: {},
          scenarios: [
            scenario('b1', { requestsPerSecond: 13_753 }),
            scenario('s1', { requestsPerSecond: 4_587, percentOfB1: 33.4, pairedB1: 10_798, percentOfPairedB1: 42.5 }),
            { id: 'drop2', label: 'drop2', status: 'skipped (PGlite serves one process)', notes: [] },
          ],
        },
      ],
    });
    const cells = (line: string) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim());
    const lines = table.split('\n').filter((line) => line.startsWith('|'));
    const header = cells(lines[0]!);
    expect(header.indexOf('% of paired B1')).toBe(header.indexOf('% of B1') + 1);
    for (const line of lines) expect(cells(line), line).toHaveLength(header.length);
    const s1 = cells(lines.find((line) => line.startsWith('| s1 '))!);
    expect(s1[header.indexOf('% of B1')]).toBe('33.4%');
    expect(s1[header.indexOf('% of paired B1')]).toBe('42.5% of 10,798');
    expect(cells(lines.find((line) => line.startsWith('| b1 '))!)[header.indexOf('% of paired B1')]).toBe('');
  });
});
