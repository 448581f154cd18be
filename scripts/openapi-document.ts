import { PGlite } from '@electric-sql/pglite';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { wrapPglite } from '../src/db/client.js';

/** The OpenAPI document as the code declares it; needs no migrated database, since no route is called. */
export async function buildOpenApiDocument(): Promise<unknown> {
  const config = { ...loadConfig({ NODE_ENV: 'test' }), jwtSecret: 'openapi-export-only' };
  const database = wrapPglite(new PGlite());
  const app = await buildApp({ config, database });
  await app.ready();
  const document = app.swagger();
  await app.close();
  await database.close();
  return JSON.parse(JSON.stringify(document));
}
