import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { unaccent } from '@electric-sql/pglite/contrib/unaccent';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import lockfile from 'proper-lockfile';
import * as schema from './schema.js';

/** The Drizzle handle every repository takes; a transaction has the same shape. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Resolves when a trivial query succeeds; rejects otherwise (used by /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** The underlying pg pool (PostgreSQL only): LISTEN/NOTIFY and benchmarks need raw connections. */
  pool?: pg.Pool;
  /** The underlying PGlite instance (embedded only). */
  pglite?: PGlite;
}

/** Extensions the migrations enable (event search); every PGlite instance must load them. */
export const pgliteExtensions = { pg_trgm, unaccent };

export const migrationsFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../drizzle');

// Timestamps come back as JS Dates; bigint counts (count(*)) as numbers, which is safe for our sizes.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export class DataDirLockedError extends Error {}

/** A live owner refreshes the lock's mtime every half of this; a lock left older than this is taken over. */
const LOCK_STALE_MS = 10_000;

interface LockOwner {
  pid: number;
  host: string;
}

/**
 * True when the process recorded as holding the lock is certainly gone: it ran on this host and no process has
 * its pid any more, or it had our own pid (a restarted container, where the server is always PID 1).
 */
function lockOwnerIsDead(ownerFile: string): boolean {
  let owner: LockOwner;
  try {
    owner = JSON.parse(fs.readFileSync(ownerFile, 'utf8')) as LockOwner;
  } catch {
    return false;
  }
  if (owner.host !== os.hostname() || !Number.isInteger(owner.pid)) return false;
  if (owner.pid === process.pid) return true;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Holds `dataDir/server.lock` for the life of the process. After a crash (SIGKILL, power loss) the lock stays
 * behind; when its owner is known to be dead we age it so proper-lockfile's stale-lock takeover (safe against
 * two starters racing) removes it at once, instead of making a restart wait for the stale period.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lockfilePath = path.join(dataDir, 'server.lock');
  const ownerFile = path.join(dataDir, 'server.lock.owner');
  const lock = () => lockfile.lock(dataDir, { lockfilePath, stale: LOCK_STALE_MS });
  const locked = () =>
    new DataDirLockedError(
      `The data folder ${dataDir} is in use by another server process. PGlite allows one process per folder: ` +
        'stop the other one, choose another DATA_DIR, or use PostgreSQL via DATABASE_URL. ' +
        `(A lock left by a crashed process on another host expires ${LOCK_STALE_MS / 1000} s after it stopped.)`,
    );
  let release: () => Promise<void>;
  try {
    release = await lock();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    if (!lockOwnerIsDead(ownerFile)) throw locked();
    const past = new Date(Date.now() - 2 * LOCK_STALE_MS);
    fs.utimesSync(lockfilePath, past, past);
    try {
      release = await lock();
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code === 'ELOCKED') throw locked();
      throw again;
    }
  }
  fs.writeFileSync(ownerFile, JSON.stringify({ pid: process.pid, host: os.hostname() } satisfies LockOwner));
  return release;
}

/**
 * Opens PGlite in `dataDir`. PGlite is single-process and takes no lock of its own, so we hold one: a second
 * server on the same folder stops with a clear message instead of corrupting the data.
 */
export async function openPglite(dataDir: string): Promise<Database> {
  fs.mkdirSync(dataDir, { recursive: true });
  const release = await lockDataDir(dataDir);
  const client = await PGlite.create(path.join(dataDir, 'pgdata'), { extensions: pgliteExtensions });
  return wrapPglite(client, release);
}

export function wrapPglite(client: PGlite, release?: () => Promise<void>): Database {
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    pglite: client,
    ping: async () => {
      await client.query('select 1');
    },
    close: async () => {
      await client.close();
      await release?.();
    },
  };
}

/**
 * `db.transaction` for a pool, holding one connection from checkout to release whatever fails. Drizzle's own
 * (0.45) sends BEGIN before its try/finally, so a BEGIN that fails on a dying connection (PostgreSQL restarting)
 * never gives the connection back: each such failure leaked one for good, until the pool was empty and shutdown
 * hung. Here drizzle runs the transaction on the checked-out connection (BEGIN, savepoints for nested ones, COMMIT
 * or ROLLBACK as usual) and we release it. If the error is not the callback's own (BEGIN, COMMIT or ROLLBACK
 * failed), the connection's state is unknown, so it is destroyed rather than handed to the next request.
 */
function poolTransaction(pool: pg.Pool): Db['transaction'] {
  // A drizzle handle per connection: building one reads the whole schema, so it is made once and reused.
  const handles = new WeakMap<pg.PoolClient, Db>();
  return async (run, config) => {
    const client = await pool.connect();
    let handle = handles.get(client);
    if (!handle) handles.set(client, (handle = drizzlePg(client, { schema }) as unknown as Db));
    let callbackError: unknown = NO_ERROR;
    let broken: Error | undefined;
    try {
      return await handle.transaction(async (tx) => {
        try {
          return await run(tx);
        } catch (err) {
          callbackError = err;
          throw err;
        }
      }, config);
    } catch (err) {
      // Drizzle rethrows the callback's error once ROLLBACK succeeded; any other error came from the connection.
      if (err !== callbackError) broken = err instanceof Error ? err : new Error(String(err));
      throw err;
    } finally {
      client.release(broken);
    }
  };
}
const NO_ERROR = Symbol('no error');

export function openPostgres(url: string, poolSize = 10): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 5_000,
    // Prepared statements keep one generic plan per connection. Left to choose, PostgreSQL planned the hot list
    // statements again on every run (their LIMIT and date parameters make a generic plan look costlier than it is),
    // and planning cost it more than running them (issue 18). A statement whose best plan depends on its values
    // sends them inline instead (the text search, events.repository.ts).
    options: '-c plan_cache_mode=force_generic_plan',
  });
  // A client losing its server (restart, failover) must not crash the process. The pool handles idle clients;
  // a checked-out one (inside a transaction) emits 'error' with nobody listening unless we listen here. Its
  // pending and next queries fail (answered 503 by the error handler) and the pool discards it on release.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = drizzlePg(pool, { schema }) as unknown as Db;
  db.transaction = poolTransaction(pool);
  return {
    db,
    kind: 'postgres',
    pool,
    ping: async () => {
      await pool.query('select 1');
    },
    close: () => pool.end(),
  };
}

// Any constant works; it only has to be the same in every process that migrates this database.
const MIGRATION_LOCK_KEY = 7_310_442_118;

/**
 * Applies the committed migrations (or those of `folder`: the upgrade tests apply the first few, then the rest). On
 * PostgreSQL an advisory lock lets several processes start at once.
 */
export async function runMigrations(database: Database, folder = migrationsFolder): Promise<void> {
  if (database.kind === 'pglite') {
    await migratePglite(database.db as never, { migrationsFolder: folder });
    return;
  }
  const client = await database.pool!.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await migratePg(drizzlePg(client, { schema }), { migrationsFolder: folder });
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
    client.release();
  }
}

export async function openDatabase(options: { databaseUrl: string; dataDir: string; poolSize?: number }): Promise<Database> {
  return options.databaseUrl ? openPostgres(options.databaseUrl, options.poolSize) : openPglite(options.dataDir);
}
