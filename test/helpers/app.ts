import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { ManualClock } from '../../src/lib/clock.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export interface TestContext {
  app: FastifyInstance;
  database: TestDatabase;
  clock: ManualClock;
  config: Config;
  close(): Promise<void>;
}

/** The whole API on a fresh database, with a clock the test controls (it starts at 2030-01-01T00:00:00Z). */
export async function buildTestApp(
  options: { env?: Record<string, string>; database?: TestDatabase; clock?: ManualClock } = {},
): Promise<TestContext> {
  const config: Config = {
    ...loadConfig({
      NODE_ENV: 'test',
      RATE_LIMITS: 'off',
      JOB_POLL_SECONDS: '0',
      LIST_COUNT_CACHE_SECONDS: '0',
      PUBLIC_CACHE_SECONDS: '0',
      ...options.env,
    }),
    jwtSecret: 'test-secret-that-is-long-enough-for-hs256-0123456789',
  };
  const database = options.database ?? (await createTestDatabase());
  const clock = options.clock ?? new ManualClock();
  const app = await buildApp({ config, database, clock });
  await app.ready();
  return {
    app,
    database,
    clock,
    config,
    close: async () => {
      await app.close();
      if (!options.database) await database.close();
    },
  };
}
