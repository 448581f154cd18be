import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, runMigrations } from '../src/db/client.js';
import { canRunPrivatePostgres, PrivatePostgres } from './helpers/private-postgres.js';
import { requestJson, signUpAndLogin, type JsonResponse } from './helpers/process-database.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';

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
