// Writes the OpenAPI document generated from the route schemas to openapi.json (committed; a test compares them).
import fs from 'node:fs';
import { buildOpenApiDocument } from './openapi-document.js';

const document = await buildOpenApiDocument();
fs.writeFileSync(new URL('../openapi.json', import.meta.url), `${JSON.stringify(document, null, 2)}\n`);
console.log('openapi.json written');
