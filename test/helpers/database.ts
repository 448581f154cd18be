import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { openPostgres, pgliteExtensions, wrapPglite, type Database } from '../../src/db/client.js';

export const onPostgres = Boolean(process.env.TEST_DATABASE_URL);

export interface TestDatabase extends Database {
  /** Connection string of this file's own PostgreSQL database (PostgreSQL runs only). */
  url?: string;
}

/** A fresh, migrated database for one test file (see global-setup.ts). Close it in afterAll. */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (process.env.TEST_DATABASE_URL) return createPostgresDatabase('', process.env.TEST_PG_TEMPLATE, 20);
  const dump = fs.readFileSync(process.env.TEST_PGLITE_DUMP!);
  const client = await PGlite.create({ loadDataDir: new Blob([dump]), extensions: pgliteExtensions });
  return wrapPglite(client);
}

/**
 * A new database on TEST_DATABASE_URL's server, copied from `template` or empty (then without even the migrations'
 * bookkeeping), dropped again by its close(). Its name begins t_<run>_, as global-setup.ts sweeps, then `tag`.
 */
export async function createPostgresDatabase(tag: string, template: string | undefined, poolSize: number): Promise<TestDatabase> {
  const url = process.env.TEST_DATABASE_URL!;
  const name = `t_${process.env.TEST_RUN_ID}_${tag}${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
  await admin.end();
  const dbUrl = new URL(url);
  dbUrl.pathname = `/${name}`;
  const database = openPostgres(dbUrl.toString(), poolSize);
  return {
    ...database,
    url: dbUrl.toString(),
    close: async () => {
      await database.close();
      const dropper = new pg.Client({ connectionString: url });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await dropper.end();
    },
  };
}
