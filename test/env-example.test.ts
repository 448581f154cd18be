import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { documentedVariables, renderEnvExample, variablesReadByConfig } from '../scripts/env-example-document.js';

describe('.env.example', () => {
  it('matches src/config.ts and the README (run `npm run env:example` after adding a variable)', () => {
    const committed = fs.readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    expect(renderEnvExample()).toBe(committed);
  });

  it('lists every variable the configuration reads, each with its default', () => {
    const example = fs.readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    for (const name of variablesReadByConfig()) expect(example).toMatch(new RegExp(`^# ${name}=`, 'm'));
    expect(example).toContain('# HOST=127.0.0.1');
    expect(example).toContain('# PORT=8000');
  });

  it('refuses a variable the code reads but the README does not document, and the reverse', () => {
    const config = fs.readFileSync(new URL('../src/config.ts', import.meta.url), 'utf8');
    const readme = fs.readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(variablesReadByConfig("const x = env.SMTP_HOST; int(env, 'SMTP_PORT', 25);")).toEqual(['SMTP_HOST', 'SMTP_PORT']);
    expect(() => renderEnvExample(`${config}\nconst host = env.SMTP_HOST;`, readme)).toThrow(/missing from the README.*SMTP_HOST/);
    const withoutPort = readme.replace(/^\| `PORT` .*\n/m, '');
    expect(documentedVariables(withoutPort).map((v) => v.name)).not.toContain('PORT');
    expect(() => renderEnvExample(config.replace("int(env, 'PORT', 8000)", '8000'), readme)).toThrow(/not read by src\/config.ts: PORT/);
  });
});
