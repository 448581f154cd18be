import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseDuration } from '../src/config.js';
import { resolveJwtSecret } from '../src/lib/jwt-secret.js';
import { buildOpenApiDocument } from '../scripts/openapi-document.js';
import { buildTestApp, type TestContext } from './helpers/app.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp();
});
afterAll(async () => ctx.close());

describe('one error format', () => {
  it('answers malformed JSON with 400 {detail}', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/auth/login/',
      headers: { 'content-type': 'application/json' },
      payload: '{"email": ',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toMatch(/JSON/);
  });

  it('answers a wrong content type with 415 {detail}', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/auth/login/',
      headers: { 'content-type': 'text/plain' },
      payload: 'email=x',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toHaveProperty('detail');
  });

  it('answers a body over the 1 MB limit with 413 {detail}', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/auth/login/',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ email: 'a@b.co', password: 'x'.repeat(1024 * 1024) }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().detail).toBe('Request body is too large.');
  });

  it('answers a JSON array where an object is expected with non_field_errors', async () => {
    const res = await ctx.app.inject({ method: 'POST', url: '/auth/login/', payload: [1, 2] });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toHaveProperty('non_field_errors');
  });

  it('answers unknown routes with 404 {detail}', async () => {
    const res = await ctx.app.inject({ url: '/no/such/route/' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ detail: 'Not found.', code: 'not_found' });
  });
});

describe('routing', () => {
  it('serves paths with and without the trailing slash', async () => {
    const withSlash = await ctx.app.inject({ url: '/auth/me/' });
    const without = await ctx.app.inject({ url: '/auth/me' });
    expect(withSlash.statusCode).toBe(401);
    expect(without.statusCode).toBe(401);
  });

  it('echoes a request id', async () => {
    const res = await ctx.app.inject({ url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers['x-request-id']).toBe('abc-123');
    const generated = await ctx.app.inject({ url: '/healthz' });
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reports liveness and readiness', async () => {
    expect((await ctx.app.inject({ url: '/healthz' })).json()).toMatchObject({ status: 'ok' });
    expect((await ctx.app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ok' });
  });
});

describe('API documentation', () => {
  it('serves the interactive docs at /docs/ without any CDN', async () => {
    const res = await ctx.app.inject({ url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('swagger-ui');
    expect(res.body).not.toMatch(/https?:\/\/(cdn|unpkg|cdnjs)/);
    const bundle = await ctx.app.inject({ url: '/docs/static/swagger-ui-bundle.js' });
    expect(bundle.statusCode).toBe(200);
  });

  it('serves the OpenAPI document, which declares every route with its responses', async () => {
    const res = await ctx.app.inject({ url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.paths['/auth/register/'].post.responses).toHaveProperty('201');
    expect(doc.paths['/auth/register/'].post.responses).toHaveProperty('400');
  });

  it('matches the committed openapi.json (run `npm run openapi` after changing an API)', async () => {
    const committed = JSON.parse(fs.readFileSync(new URL('../openapi.json', import.meta.url), 'utf8'));
    expect(await buildOpenApiDocument()).toEqual(committed);
  });
});

describe('configuration', () => {
  it('refuses to run in production without a JWT secret, or with a short one', () => {
    expect(() => resolveJwtSecret(loadConfig({ NODE_ENV: 'production' }))).toThrow(ConfigError);
    expect(() => resolveJwtSecret(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short' }))).toThrow(/32 characters/);
    const secret = 'x'.repeat(40);
    expect(resolveJwtSecret(loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret }))).toBe(secret);
  });

  it('generates a development secret once and keeps it in the data folder', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'secret-'));
    try {
      const first = resolveJwtSecret(loadConfig({ DATA_DIR: dir }));
      expect(first.length).toBeGreaterThanOrEqual(32);
      expect(resolveJwtSecret(loadConfig({ DATA_DIR: dir }))).toBe(first);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the data folder in ./data unless DATA_DIR names one (empty names none)', () => {
    expect(loadConfig({}).dataDir).toBe(path.resolve('data'));
    expect(loadConfig({ DATA_DIR: '' }).dataDir).toBe(path.resolve('data'));
    expect(loadConfig({ DATA_DIR: '  ' }).dataDir).toBe(path.resolve('data'));
    expect(loadConfig({ DATA_DIR: '/srv/tickets' }).dataDir).toBe('/srv/tickets');
  });

  it('parses durations and rejects nonsense', () => {
    expect(parseDuration('X', '24h', 0)).toBe(86_400);
    expect(parseDuration('X', '300', 0)).toBe(300);
    expect(parseDuration('X', undefined, 7)).toBe(7);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(loadConfig({ RATE_LIMITS: 'off' }).rateLimitsEnabled).toBe(false);
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example' }).corsOrigins).toEqual([
      'https://a.example',
      'https://b.example',
    ]);
  });
});
