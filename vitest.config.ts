import { defineConfig } from 'vitest/config';

// Each test file opens its own database (a PGlite copy or a PostgreSQL database cloned from a template) and its own
// app, and closes both, so files can share a worker process: not re-importing the app and PGlite for every file
// (isolate: false) takes about a quarter off a run. A file that replaces a module (vi.mock) needs a fresh module
// graph, so those run isolated.
const isolated = ['test/ticket-code-collision.test.ts'];

const common = { pool: 'forks', testTimeout: 30_000, hookTimeout: 60_000, env: { NODE_ENV: 'test' } } as const;

export default defineConfig({
  test: {
    // Runs once for the whole run (the projects do not extend the root, so they do not run it again).
    globalSetup: ['test/helpers/global-setup.ts'],
    maxWorkers: 2,
    // `--project 'api*'` (api and api-isolated) leaves out the browser tests (CI's Node 22 stage).
    projects: [
      { test: { ...common, name: 'api', include: ['test/*.test.ts'], exclude: isolated, isolate: false } },
      { test: { ...common, name: 'api-isolated', include: isolated, isolate: true } },
      { test: { ...common, name: 'web', include: ['test/web/**/*.test.ts'], isolate: false } },
    ],
  },
});
