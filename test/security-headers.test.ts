import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { helmetHeaders } from '../src/plugins/security-headers.js';
import { buildTestApp, type TestContext } from './helpers/app.js';

let ctx: TestContext;
/** A second app on the same database, configured to allow one browser origin. */
let withCors: TestContext;
/** An app with routes that fail the ways a bug would, to see what a client gets back. */
let faulty: FastifyInstance;

const ALLOWED = 'https://tickets.example.com';
const SECRET_MESSAGE = 'password=hunter2 at /srv/app/src/modules/secret.ts:42';

beforeAll(async () => {
  ctx = await buildTestApp();
  withCors = await buildTestApp({ database: ctx.database, env: { CORS_ORIGINS: `${ALLOWED}, https://admin.example.com` } });
  faulty = await buildApp({
    config: {
      ...loadConfig({ NODE_ENV: 'production', RATE_LIMITS: 'off', JOB_POLL_SECONDS: '0', LOG_LEVEL: 'silent' }),
      jwtSecret: 'x'.repeat(40),
    },
    database: ctx.database,
  });
  faulty.get('/boom', async () => {
    throw new Error(SECRET_MESSAGE);
  });
  faulty.get('/boom-typed', async () => {
    throw Object.assign(new TypeError(SECRET_MESSAGE), { statusCode: 500, code: 'ERR_SECRET' });
  });
  faulty.get('/bad-shape', { schema: { response: { 200: Type.Object({ id: Type.String() }) } } }, async () => ({ nope: SECRET_MESSAGE }));
  await faulty.ready();
});
afterAll(async () => {
  await faulty.close();
  await withCors.close();
  await ctx.close();
});

describe('security headers (helmet)', () => {
  it.each(['/healthz', '/auth/me/', '/no/such/route/'])('are set on %s', async (url) => {
    const res = await ctx.app.inject({ url });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(res.headers).not.toHaveProperty('x-powered-by');
    expect(res.headers).not.toHaveProperty('server');
  });

  it("are exactly the headers Helmet's own middleware sets on a real response, computed once", async () => {
    // Helmet run as middleware on a node:http server, the way @fastify/helmet ran it for every request.
    const server = http.createServer((req, res) =>
      helmet()(req, res, () => {
        res.setHeader('x-powered-by', 'node');
        res.end();
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const reference = await fetch(`http://127.0.0.1:${port}/`);
      const app = await ctx.app.inject({ url: '/healthz' });
      const names = [...reference.headers.keys()].filter(
        (name) => !['date', 'connection', 'keep-alive', 'content-length', 'x-powered-by'].includes(name),
      );
      expect(names.length).toBeGreaterThanOrEqual(10);
      for (const name of names) expect(app.headers[name], name).toBe(reference.headers.get(name));
      expect(Object.keys(helmetHeaders()).sort()).toEqual([...names, 'x-powered-by'].sort());
    } finally {
      server.close();
    }
  });
});

describe('CORS', () => {
  const preflight = (app: FastifyInstance, origin: string) =>
    app.inject({
      method: 'OPTIONS',
      url: '/auth/login/',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
    });

  it('answers a preflight from an allowed origin, naming only that origin', async () => {
    const res = await preflight(withCors.app, ALLOWED);
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(String(res.headers['access-control-allow-methods'])).toMatch(/POST/);
    expect(res.headers).not.toHaveProperty('access-control-allow-credentials');
  });

  it('gives a disallowed origin no CORS grant, on a preflight or a simple request', async () => {
    const res = await preflight(withCors.app, 'https://evil.example.net');
    expect(res.headers).not.toHaveProperty('access-control-allow-origin');
    const simple = await withCors.app.inject({ url: '/healthz', headers: { origin: 'https://evil.example.net' } });
    expect(simple.statusCode).toBe(200);
    expect(simple.headers).not.toHaveProperty('access-control-allow-origin');
    // A look-alike of an allowed origin is not allowed.
    const lookalike = await preflight(withCors.app, `${ALLOWED}.evil.example.net`);
    expect(lookalike.headers).not.toHaveProperty('access-control-allow-origin');
  });

  it('grants no origin at all when CORS_ORIGINS is empty (the default)', async () => {
    const res = await preflight(ctx.app, ALLOWED);
    expect(res.headers).not.toHaveProperty('access-control-allow-origin');
    const simple = await ctx.app.inject({ url: '/healthz', headers: { origin: ALLOWED } });
    expect(simple.headers).not.toHaveProperty('access-control-allow-origin');
  });
});

describe('no internals in error responses', () => {
  it.each(['/boom', '/boom-typed', '/bad-shape'])('%s answers a bare 500 {detail} without message or stack', async (url) => {
    const res = await faulty.inject({ url });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ detail: 'A server error occurred.', code: 'server_error' });
    expect(res.body).not.toMatch(/hunter2|secret\.ts|at \w+ \(|node_modules/);
  });

  it('keeps the error response shape and the security headers on a 500', async () => {
    const res = await faulty.inject({ url: '/boom' });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('client IP behind a reverse proxy (TRUST_PROXY)', () => {
  async function ipSeen(trustProxy: string, forwardedFor: string): Promise<string> {
    const app = await buildApp({
      config: { ...loadConfig({ NODE_ENV: 'test', TRUST_PROXY: trustProxy, JOB_POLL_SECONDS: '0' }), jwtSecret: 'x'.repeat(40) },
      database: ctx.database,
    });
    app.get('/ip', async (request) => ({ ip: request.ip }));
    try {
      const res = await app.inject({ url: '/ip', remoteAddress: '10.0.0.2', headers: { 'x-forwarded-for': forwardedFor } });
      return res.json<{ ip: string }>().ip;
    } finally {
      await app.close();
    }
  }

  it('ignores X-Forwarded-For by default, so a client cannot pick its own IP for the rate limits', async () => {
    expect(await ipSeen('', '6.6.6.6')).toBe('10.0.0.2');
  });

  it('believes exactly as many hops as configured, or only the listed proxies', async () => {
    // The client forged the first entry; the proxy appended the address it saw.
    expect(await ipSeen('1', '6.6.6.6, 203.0.113.7')).toBe('203.0.113.7');
    expect(await ipSeen('10.0.0.0/8', '6.6.6.6, 203.0.113.7')).toBe('203.0.113.7');
    expect(await ipSeen('192.168.0.0/16', '6.6.6.6, 203.0.113.7')).toBe('10.0.0.2');
  });
});
