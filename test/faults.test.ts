import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, openPostgres, runMigrations } from '../src/db/client.js';
import { hashPassword } from '../src/lib/passwords.js';
import { TokenService } from '../src/modules/auth/tokens.js';
import { insertUser } from '../src/modules/users/users.repository.js';
import { canRunPrivatePostgres, PrivatePostgres } from './helpers/private-postgres.js';
import { processDatabase, requestJson, signUpAndLogin, type JsonResponse } from './helpers/process-database.js';
import { startServer, TEST_JWT_SECRET, type ServerProcess } from './helpers/server-process.js';
import { createEvent } from './helpers/factories.js';

const run = promisify(execFile);

// These tests stop PostgreSQL, so they run on a throwaway cluster of their own (never the shared server), and
// only in the PostgreSQL run where the server binaries are installed.

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.skipIf(!canRunPrivatePostgres)('PostgreSQL restarted under load', { timeout: 180_000 }, () => {
  let cluster: PrivatePostgres;
  let server: ServerProcess;
  beforeAll(async () => {
    cluster = await PrivatePostgres.create();
    const database = openPostgres(cluster.url, 1);
    await runMigrations(database);
    await database.close();
    server = await startServer({ DATABASE_URL: cluster.url, DB_POOL_SIZE: '4' });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await cluster?.destroy();
  });

  it('answers 503 {detail} while the database is down, /readyz says so, and recovers by itself', async () => {
    const token = await signUpAndLogin(server.baseUrl, 'outage_user');
    const credentials = { email: 'outage_user@example.com', password: 'Sturdy-Passphrase-91' };

    const responses: JsonResponse[] = [];
    let streaming = true;
    const stream = Promise.all(
      [1, 2, 3, 4].map(async (worker) => {
        while (streaming) {
          if (worker % 2) {
            responses.push(await requestJson(server.baseUrl, 'GET', '/auth/me/', { token }));
            continue;
          }
          // Login, then a refresh: its rotation is a transaction, so a connection dies mid-transaction too.
          const login = await requestJson(server.baseUrl, 'POST', '/auth/login/', { body: credentials });
          responses.push(login);
          if (login.status !== 200) continue;
          responses.push(await requestJson(server.baseUrl, 'POST', '/auth/token/refresh/', { body: { refresh: login.body.refresh } }));
        }
      }),
    );
    await until('some requests served', async () => (responses.length >= 20 ? true : undefined));

    await cluster.stop('immediate');
    const ready = await requestJson(server.baseUrl, 'GET', '/readyz');
    expect(ready).toEqual({ status: 503, body: { status: 'unavailable', detail: 'Database unreachable.' } });
    const me = await requestJson(server.baseUrl, 'GET', '/auth/me/', { token });
    expect(me.status).toBe(503);
    expect(me.body).toMatchObject({ detail: 'Service temporarily unavailable.', code: 'unavailable' });
    await sleep(500);

    await cluster.start();
    await until('/readyz to recover', async () =>
      (await requestJson(server.baseUrl, 'GET', '/readyz')).status === 200 ? true : undefined,
    );
    await until('requests to succeed again', async () =>
      (await requestJson(server.baseUrl, 'GET', '/auth/me/', { token })).status === 200 ? true : undefined,
    );
    const servedBefore = responses.filter((r) => r.status === 200).length;
    await until('the stream to be served again', async () =>
      responses.filter((r) => r.status === 200).length > servedBefore + 10 ? true : undefined,
    );
    streaming = false;
    await stream;

    expect(server.isRunning()).toBe(true);
    const statuses = new Set(responses.map((r) => r.status));
    expect([...statuses].sort()).toEqual([200, 503]);
    for (const r of responses.filter((r) => r.status === 503)) expect(typeof r.body.detail).toBe('string');
  });
});

describe('a server killed (SIGKILL) in the middle of a stream of registrations', { timeout: 240_000 }, () => {
  it('leaves every registration whole or absent, and every acknowledged one present', async (test) => {
    const target = await processDatabase();
    try {
      // Prepare users and a small event before the server starts (PGlite serves one process at a time).
      const config = { databaseUrl: target.env.DATABASE_URL ?? '', dataDir: target.env.DATA_DIR ?? '' };
      const setup = await openDatabase({ ...config, poolSize: 1 });
      await runMigrations(setup);
      const passwordHash = await hashPassword('Sturdy-Passphrase-91');
      const newUser = (name: string, isOrganizer = false) =>
        insertUser(setup.db, { email: `${name}@example.com`, username: name, passwordHash, isOrganizer, dateJoined: new Date() });
      const organizer = await newUser('kill_organizer', true);
      const event = await createEvent(setup, organizer, { capacity: 40, dateTime: new Date(Date.now() + 30 * 86_400_000) });
      const attendees = [];
      for (let i = 0; i < 200; i++) attendees.push(await newUser(`kill_attendee_${i}`));
      await setup.close();

      const server = await startServer(target.env);
      try {
        const tokens = new TokenService(TEST_JWT_SECRET, 3600, 86_400);
        const probe = await requestJson(server.baseUrl, 'POST', '/registrations/', { body: {} });
        if (probe.status === 404) test.skip(); // The registrations routes have not landed in this build.

        const acknowledged: string[] = [];
        let sent = 0;
        // Killed from the stream itself once 20 are acknowledged: registrations are quick enough (group commit)
        // that a poller could miss the middle of the stream altogether.
        let killed = false;
        const queue = [...attendees];
        const workers = Array.from({ length: 8 }, async () => {
          for (let next = queue.shift(); next; next = queue.shift()) {
            sent++;
            const token = tokens.issue('access', next.id, new Date()).token;
            const res = await requestJson(server.baseUrl, 'POST', '/registrations/', {
              token,
              body: { event: event.id, quantity: 1 + (sent % 3) },
            }).catch(() => undefined);
            if (!res) return; // The server is gone.
            expect([201, 400]).toContain(res.status);
            if (res.status === 201) acknowledged.push(res.body.id as string);
            if (acknowledged.length >= 20 && !killed) {
              killed = true;
              server.child.kill('SIGKILL');
            }
          }
        });
        await Promise.all(workers);
        expect(killed).toBe(true);
        await server.exited;
        expect(sent).toBeLessThan(attendees.length); // Killed mid-stream, not after it.
      } finally {
        await server.stop();
      }

      const check = await run(process.execPath, ['--import', 'tsx', 'scripts/check-integrity.ts'], {
        env: { ...process.env, ...target.env },
      }).catch((err: { stdout: string; stderr: string }) => {
        throw new Error(`check-integrity failed:\n${err.stdout}${err.stderr}`);
      });
      expect(check.stdout).toMatch(/Integrity OK/);
    } finally {
      await target.remove();
    }
  });
});

describe.skipIf(!canRunPrivatePostgres)('pool connections across PostgreSQL restarts', { timeout: 240_000 }, () => {
  // The red team's finding: a BEGIN that failed on a dying connection never released it (Drizzle sends BEGIN
  // outside its try/finally). After enough restarts each process had 1 usable connection of 10, and shutdown hung.
  it('after 15 restarts under transaction load the pool serves its full size at once and closes cleanly', async () => {
    const cluster = await PrivatePostgres.create();
    const POOL_SIZE = 4;
    const database = openPostgres(cluster.url, POOL_SIZE);
    try {
      let loading = true;
      let committed = 0;
      let failed = 0;
      const load = Promise.all(
        Array.from({ length: 8 }, async () => {
          while (loading) {
            try {
              await database.db.transaction(async (tx) => {
                await tx.execute(sql`select 1`);
                await tx.transaction(async (inner) => inner.execute(sql`select 2`));
              });
              committed++;
            } catch {
              failed++;
              await sleep(5);
            }
          }
        }),
      );
      for (let restart = 0; restart < 15; restart++) {
        await sleep(150);
        await cluster.stop('immediate');
        await sleep(50);
        await cluster.start();
      }
      await until('transactions to commit again', async () => {
        const before = committed;
        await sleep(300);
        return committed > before + 20 ? true : undefined;
      });
      loading = false;
      await load;
      expect(failed).toBeGreaterThan(0); // the restarts did hit transactions in flight

      // Every connection of the pool is usable: POOL_SIZE transactions at once, each on its own backend, none
      // waiting for a connection that will never come back.
      const pids = await Promise.all(
        Array.from({ length: POOL_SIZE }, () =>
          database.db.transaction(async (tx) => {
            const result = await tx.execute<{ pid: number }>(sql`select pg_backend_pid() as pid, pg_sleep(0.3)`);
            return (result as { rows: { pid: number }[] }).rows[0]!.pid;
          }),
        ),
      );
      expect(new Set(pids).size).toBe(POOL_SIZE);
      expect(database.pool!.totalCount).toBeLessThanOrEqual(POOL_SIZE);
      // A leaked (checked-out) connection makes pool.end() wait for ever: shutdown must finish promptly.
      const closed = await Promise.race([database.close().then(() => 'closed'), sleep(5_000).then(() => 'hung')]);
      expect(closed).toBe('closed');
    } finally {
      await database.close().catch(() => {});
      await cluster.destroy();
    }
  });
});
