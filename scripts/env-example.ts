// Writes .env.example from src/config.ts and the README's configuration table (a test fails when it is stale).
import fs from 'node:fs';
import { renderEnvExample } from './env-example-document.js';

fs.writeFileSync(new URL('../.env.example', import.meta.url), renderEnvExample());
console.log('.env.example written');
