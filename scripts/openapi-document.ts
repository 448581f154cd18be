import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { Database } from '../src/db/client.js';

/** Building the document calls no route, so no database is opened. */
const noDatabase: Database = {
  db: {} as Database['db'],
  kind: 'postgres',
  ping: async () => {},
  close: async () => {},
};

/** The OpenAPI document exactly as the route schemas declare it. */
export async function buildOpenApiDocument(): Promise<unknown> {
  const config = { ...loadConfig({ NODE_ENV: 'test' }), jwtSecret: 'openapi-export-only' };
  const app = await buildApp({ config, database: noDatabase });
  await app.ready();
  const document = app.swagger();
  await app.close();
  return JSON.parse(JSON.stringify(document));
}
