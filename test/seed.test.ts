import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { checkIntegrity } from '../src/lib/integrity.js';
import { DatabaseNotEmptyError, DEMO_PASSWORD, seedDemo } from '../scripts/seed-demo.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

let database: TestDatabase;
let seeded: Awaited<ReturnType<typeof seedDemo>>;
beforeAll(async () => {
  database = await createTestDatabase();
  seeded = await seedDemo(database);
});
afterAll(async () => database.close());

describe('npm run seed (the demo data)', () => {
  it('makes staff, organizers and attendees who can log in with the printed password', async () => {
    expect(seeded.logins.map((l) => l.role)).toEqual(expect.arrayContaining(['staff', 'organizer', 'attendee']));
    const config = { ...loadConfig({ NODE_ENV: 'test', RATE_LIMITS: 'off', PUBLIC_CACHE_SECONDS: '0' }), jwtSecret: 'x'.repeat(48) };
    const app = await buildApp({ config, database });
    try {
      for (const login of seeded.logins) {
        const res = await app.inject({ method: 'POST', url: '/auth/login/', payload: { email: login.email, password: DEMO_PASSWORD } });
        expect(res.statusCode, login.email).toBe(200);
      }
      const upcoming = await app.inject({ url: '/events/?page_size=100' });
      expect(upcoming.json().count).toBeGreaterThanOrEqual(50);
      const categories = new Set(upcoming.json().results.map((e: { category: string }) => e.category));
      expect(categories.size).toBeGreaterThanOrEqual(5);

      const soldOut = upcoming.json().results.find((e: { is_sold_out: boolean; waitlist_count: number }) => e.is_sold_out);
      expect(soldOut).toMatchObject({ tickets_remaining: 0, waitlist_count: 2 });

      const past = await app.inject({ url: '/events/?include_past=true&date_to=' + new Date().toISOString() });
      expect(past.json().count).toBe(3);
      const feedback = await app.inject({ url: '/feedbacks/' });
      expect(feedback.json().count).toBe(12);
    } finally {
      await app.close();
    }
  });

  it('leaves every seat, ticket and rating invariant intact', async () => {
    expect((await checkIntegrity(database.db)).problems).toEqual([]);
    expect(seeded.counts).toMatchObject({ events: 54, feedbacks: 12 });
  });

  it('refuses a database that already has users, and changes nothing', async () => {
    await expect(seedDemo(database)).rejects.toThrow(DatabaseNotEmptyError);
    expect((await checkIntegrity(database.db)).counts.events).toBe(54);
  });
});
