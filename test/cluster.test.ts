import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serverBundleEntry } from '../scripts/build-server.js';
import { createTestDatabase, onPostgres, type TestDatabase } from './helpers/database.js';

// Runs the real entry point the way `npm start` does: the server bundle (scripts/build-server.ts, built by the tests'
// global setup when stale), whose forked workers load the same bundle.
const root = path.resolve(import.meta.dirname, '..');

function startServer(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--enable-source-maps', serverBundleEntry], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      JWT_SECRET: 'cluster-test-secret-0123456789abcdef0123456789ab',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      JOB_POLL_SECONDS: '0',
      // Set, even empty, so a developer's .env cannot fill them in.
      DATABASE_URL: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** GET /healthz on a new connection each time (no keep-alive), so the cluster may hand it to any worker. */
function healthPid(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 ? (JSON.parse(body) as { pid: number }).pid : undefined));
    });
    req.on('error', () => resolve(undefined));
    // A connection handed to a worker just as it was killed gets no answer: give up on it and ask again.
    req.setTimeout(2_000, () => req.destroy());
  });
}

describe.skipIf(!onPostgres)('WEB_CONCURRENCY=2 on PostgreSQL', () => {
  let database: TestDatabase;
  let server: ReturnType<typeof startServer> | undefined;
  afterAll(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    await database?.close();
  });

  it('serves from two worker processes on one port, replaces one that dies, and stops cleanly on SIGTERM', async () => {
    database = await createTestDatabase();
    const port = await freePort();
    server = startServer({ DATABASE_URL: database.url!, WEB_CONCURRENCY: '2', PORT: String(port) });
    const pids = new Set<number>();
    const deadline = Date.now() + 90_000;
    while (pids.size < 2 && Date.now() < deadline && server.child.exitCode === null) {
      const pid = await healthPid(port);
      if (pid) pids.add(pid);
      else await new Promise((r) => setTimeout(r, 200));
    }
    expect(pids.size, server.output()).toBe(2);
    expect(pids.has(server.child.pid!)).toBe(false);

    // A worker that dies is replaced (at once: it had been serving, not crash-looping).
    const [victim] = [...pids];
    process.kill(victim!, 'SIGKILL');
    const replacement = new Set<number>();
    while (replacement.size === 0 && Date.now() < deadline) {
      const pid = await healthPid(port);
      if (pid && !pids.has(pid)) replacement.add(pid);
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(replacement.size, server.output()).toBe(1);
    expect(server.output()).toContain(`worker ${victim} exited with SIGKILL`);
    for (const pid of replacement) pids.add(pid);
    pids.delete(victim!);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  }, 120_000);
});

describe('WEB_CONCURRENCY=2 on PGlite', () => {
  it('refuses to start, saying why', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cluster-test-'));
    try {
      const server = startServer({ WEB_CONCURRENCY: '2', DATA_DIR: dataDir, PORT: String(await freePort()) });
      expect(await server.exited).not.toBe(0);
      expect(server.output()).toContain('WEB_CONCURRENCY=2 needs PostgreSQL');
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
