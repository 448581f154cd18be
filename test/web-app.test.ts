import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWebClientTypes, webClientTypesFile } from '../scripts/web-client.js';
import webApp, { defaultWebDistDir, WEB_APP_CSP } from '../src/plugins/web-app.js';
import { buildTestApp, type TestContext } from './helpers/app.js';

let ctx: TestContext;
let asset: string;

beforeAll(async () => {
  ctx = await buildTestApp();
  // global-setup.ts built web/dist; any hashed file under assets/ will do.
  asset = fs.readdirSync(path.join(defaultWebDistDir, 'assets')).find((name) => name.endsWith('.js'))!;
});
afterAll(async () => ctx.close());

describe('the web app under /app/', () => {
  it('sends a browser opening / to /app/', async () => {
    const res = await ctx.app.inject({ url: '/' });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/app/');
  });

  it.each(['/app', '/app/', '/app/events/2b0e3a52-8c1d-4d4f-9a7e-0d6f1f2e3a4b', '/app/tickets', '/app/no/such/page'])(
    'answers the page %s with index.html, never cached, under the strict CSP',
    async (url) => {
      const res = await ctx.app.inject({ url });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toBe(WEB_APP_CSP);
      expect(res.body).toContain('<div id="root"></div>');
      // No inline script or style: every script and stylesheet is a file of this origin.
      expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(res.body).not.toMatch(/<style|style=/);
    },
  );

  it('serves hashed assets cached for a year and a missing asset as a 404, not as the page', async () => {
    const res = await ctx.app.inject({ url: `/app/assets/${asset}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const missing = await ctx.app.inject({ url: '/app/assets/index-missing.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['cache-control']).toBe('no-cache');
  });

  it('serves the door check-in service worker as script, never cached, under the CSP that lets it run', async () => {
    const res = await ctx.app.inject({ url: '/app/check-in-sw.js' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['content-security-policy']).toBe(WEB_APP_CSP);
    expect(res.body).toContain("addEventListener('fetch'");
    // Workers: our own files (the service worker) and blob: (qr-scanner's decoder worker), nothing else.
    expect(WEB_APP_CSP).toContain("worker-src 'self' blob:");
  });

  it('has a CSP that allows nothing inline and nothing from another origin', () => {
    const directives = Object.fromEntries(WEB_APP_CSP.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
    expect(directives['script-src']).toEqual(["'self'"]);
    expect(directives['style-src']).toEqual(["'self'"]);
    expect(directives['connect-src']).toEqual(["'self'"]);
    expect(WEB_APP_CSP).not.toMatch(/unsafe|https:|\*/);
  });

  it('leaves the API its paths and its own headers', async () => {
    const res = await ctx.app.inject({ url: '/events/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.headers['content-security-policy']).not.toBe(WEB_APP_CSP);
    expect((await ctx.app.inject({ url: '/healthz' })).json()).toMatchObject({ status: 'ok' });
  });

  it('says the app is not built (503) rather than failing when web/dist is missing', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'no-web-'));
    const bare = Fastify({ logger: false });
    await bare.register(webApp, { distDir: empty });
    try {
      const res = await bare.inject({ url: '/app/events/x' });
      expect(res.statusCode).toBe(503);
      expect(res.body).toMatch(/npm run build:web/);
      expect((await bare.inject({ url: '/' })).headers.location).toBe('/app/');
    } finally {
      await bare.close();
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('the generated API client', () => {
  it('matches the committed openapi.json (run `npm run openapi` after changing an API)', async () => {
    expect(fs.readFileSync(webClientTypesFile, 'utf8')).toBe(await generateWebClientTypes());
  });
});
