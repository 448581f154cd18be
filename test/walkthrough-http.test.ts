import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.js';
import { buildTestApp, type TestContext } from './helpers/app.js';
import { parseHttpFile, resolveVariables } from './helpers/http-file.js';

let ctx: TestContext;
const now = new Date();
beforeAll(async () => {
  // The file's dates are relative to the real "now", as they are when a person sends them against `npm start`.
  ctx = await buildTestApp({ clock: new ManualClock(now) });
});
afterAll(async () => ctx.close());

describe('docs/walkthrough.http', () => {
  it('runs request by request against a fresh server, every answer a success', async () => {
    const { variables, requests } = parseHttpFile(fs.readFileSync(new URL('../docs/walkthrough.http', import.meta.url), 'utf8'));
    expect(requests.length).toBeGreaterThanOrEqual(10);
    const base = variables.get('base')!;
    const answers = new Map<string, unknown>();
    const statuses: string[] = [];
    for (const request of requests) {
      const resolve = (text: string) => resolveVariables(text, variables, answers, now);
      const url = resolve(request.url);
      expect(url.startsWith(base), request.title).toBe(true);
      const res = await ctx.app.inject({
        method: request.method as 'GET',
        url: url.slice(base.length),
        headers: Object.fromEntries(request.headers.map(([name, value]) => [name, resolve(value)])),
        ...(request.body ? { payload: resolve(request.body) } : {}),
      });
      statuses.push(`${res.statusCode} ${request.title}`);
      expect(res.statusCode, `${request.title}: ${res.body}`).toBeLessThan(300);
      if (request.name) answers.set(request.name, res.body ? res.json() : undefined);
    }
    expect(statuses[0]).toMatch(/^201 Sign up/);
    expect(statuses.at(-1)).toMatch(/^204 Log out/);
  });
});
