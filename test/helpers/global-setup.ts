import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { openPostgres, pgliteExtensions, runMigrations, wrapPglite } from '../../src/db/client.js';
import { buildServer, serverBuildIsStale } from '../../scripts/build-server.js';
import { buildWeb, webBuildIsStale } from '../../scripts/build-web.js';

/**
 * Migrates one template database per run; each test file then gets its own copy cheaply:
 * PostgreSQL by CREATE DATABASE … TEMPLATE, PGlite by loading a dump of a migrated instance.
 */
export default async function setup() {
  // The browser tests load the built app from web/dist: build it once here when it is missing or stale.
  if (webBuildIsStale()) await buildWeb();
  // The cluster test runs the server as `npm start` does, from its bundle.
  if (serverBuildIsStale()) await buildServer();
  const url = process.env.TEST_DATABASE_URL;
  process.env.TEST_RUN_ID = String(process.pid);
  if (url) {
    const template = `tmpl_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${template}`);
    const templateUrl = new URL(url);
    templateUrl.pathname = `/${template}`;
    const database = openPostgres(templateUrl.toString(), 1);
    await runMigrations(database);
    await database.close();
    process.env.TEST_PG_TEMPLATE = template;
    console.log(`Tests run on PostgreSQL (${templateUrl.host}, template ${template})`);
    return async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${template}`);
      // Databases of test files that crashed before cleaning up.
      const { rows } = await admin.query(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`t_${process.pid}_%`]);
      for (const row of rows) await admin.query(`DROP DATABASE IF EXISTS ${row.datname} WITH (FORCE)`);
      await admin.end();
    };
  }
  // Migrated once, in a data folder laid out as the server keeps it (DATA_DIR/pgdata): spawned servers start on a
  // copy of the folder (an empty one costs each start an initdb, about 5 s), in-process tests load its dump.
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'pglite-template-'));
  const database = wrapPglite(await PGlite.create(path.join(folder, 'pgdata'), { extensions: pgliteExtensions }));
  await runMigrations(database);
  const dump = await database.pglite!.dumpDataDir('none');
  const file = path.join(folder, 'dump.tar');
  await database.close();
  fs.writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  process.env.TEST_PGLITE_DUMP = file;
  process.env.TEST_PGLITE_FOLDER = path.join(folder, 'pgdata');
  console.log('Tests run on PGlite (embedded)');
  return () => fs.rmSync(folder, { recursive: true, force: true });
}
