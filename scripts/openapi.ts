// Writes the OpenAPI document generated from the route schemas to openapi.json (committed; a test compares them),
// then the web app's client types generated from it (committed too; another test compares them).
import fs from 'node:fs';
import { buildOpenApiDocument } from './openapi-document.js';
import { generateWebClientTypes, webClientTypesFile } from './web-client.js';

const document = await buildOpenApiDocument();
fs.writeFileSync(new URL('../openapi.json', import.meta.url), `${JSON.stringify(document, null, 2)}\n`);
console.log('openapi.json written');
fs.writeFileSync(webClientTypesFile, await generateWebClientTypes());
console.log('web/src/api/schema.d.ts written');
