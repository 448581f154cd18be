import { createHmac, randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { users } from '../src/db/schema.js';
import { buildTestApp, type TestContext } from './helpers/app.js';
import { DEFAULT_PASSWORD, createUser, type TestUser } from './helpers/factories.js';

let ctx: TestContext;
let user: TestUser;
beforeAll(async () => {
  ctx = await buildTestApp();
  user = await createUser(ctx.app);
});
afterAll(async () => ctx.close());

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A JWT with any header and claims, signed with HMAC (`key`) or unsigned (`alg: none`). */
function forge(header: Record<string, unknown>, claims: Record<string, unknown>, key?: string, hash = 'sha256'): string {
  const unsigned = `${b64(header)}.${b64(claims)}`;
  const signature = key ? createHmac(hash, key).update(unsigned).digest('base64url') : '';
  return `${unsigned}.${signature}`;
}

const nowSeconds = () => Math.floor(ctx.clock.now().getTime() / 1000);
const accessClaims = (overrides: Record<string, unknown> = {}) => ({
  sub: user.id,
  type: 'access',
  jti: randomUUID(),
  iat: nowSeconds(),
  exp: nowSeconds() + 300,
  ...overrides,
});

async function me(token: string) {
  return ctx.app.inject({ url: '/auth/me/', headers: { authorization: `Bearer ${token}` } });
}

function expect401(res: Awaited<ReturnType<typeof me>>) {
  expect(res.statusCode, res.body).toBe(401);
  expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  expect(res.json()).toMatchObject({ detail: expect.any(String), code: 'token_not_valid' });
}

describe('access tokens the API must refuse with 401', () => {
  const secret = () => ctx.config.jwtSecret;
  const cases: [string, () => string][] = [
    ['alg none, no signature', () => forge({ alg: 'none', typ: 'JWT' }, accessClaims())],
    [
      'alg none with the real signature kept',
      () => {
        const real = forge({ alg: 'HS256', typ: 'JWT' }, accessClaims(), secret());
        return `${b64({ alg: 'none', typ: 'JWT' })}.${real.split('.').slice(1).join('.')}`;
      },
    ],
    ['alg "None" spelled differently', () => forge({ alg: 'None', typ: 'JWT' }, accessClaims())],
    ['signed with another key', () => forge({ alg: 'HS256', typ: 'JWT' }, accessClaims(), 'not-the-server-secret-0123456789abcdef')],
    ['right key but HS512 (only HS256 is accepted)', () => forge({ alg: 'HS512', typ: 'JWT' }, accessClaims(), secret(), 'sha512')],
    ['RS256 header over an HMAC signature (algorithm confusion)', () => forge({ alg: 'RS256', typ: 'JWT' }, accessClaims(), secret())],
    ['expired a second ago', () => forge({ alg: 'HS256', typ: 'JWT' }, accessClaims({ exp: nowSeconds() - 1 }), secret())],
    ['no exp claim', () => forge({ alg: 'HS256', typ: 'JWT' }, { ...accessClaims(), exp: undefined }, secret())],
    ['exp as a string', () => forge({ alg: 'HS256', typ: 'JWT' }, accessClaims({ exp: '9999999999' }), secret())],
    ['a refresh token used as access', () => ctx.app.tokens.issue('refresh', user.id, ctx.clock.now(), randomUUID()).token],
    ['no type claim', () => forge({ alg: 'HS256', typ: 'JWT' }, { ...accessClaims(), type: undefined }, secret())],
    ['a subject that is not a uuid', () => forge({ alg: 'HS256', typ: 'JWT' }, accessClaims({ sub: "admin' OR 1=1" }), secret())],
    ['a subject of no user', () => forge({ alg: 'HS256', typ: 'JWT' }, accessClaims({ sub: randomUUID() }), secret())],
    [
      'payload edited after signing',
      () => {
        const [head, , signature] = forge({ alg: 'HS256', typ: 'JWT' }, accessClaims(), secret()).split('.');
        return `${head}.${b64(accessClaims({ sub: randomUUID() }))}.${signature}`;
      },
    ],
    ['two segments only', () => forge({ alg: 'HS256', typ: 'JWT' }, accessClaims(), secret()).split('.').slice(0, 2).join('.')],
    ['garbage', () => 'not.a.jwt'],
  ];

  it.each(cases)('%s', async (_name, token) => {
    expect401(await me(token()));
  });

  it('accepts a well-formed token (so the cases above fail for the stated reason)', async () => {
    const res = await me(forge({ alg: 'HS256', typ: 'JWT' }, accessClaims(), ctx.config.jwtSecret));
    expect(res.statusCode).toBe(200);
  });
});

describe('refresh tokens the API must refuse with 401', () => {
  const refresh = (token: string) => ctx.app.inject({ method: 'POST', url: '/auth/token/refresh/', payload: { refresh: token } });

  it('refuses an access token presented as a refresh token', async () => {
    const access = ctx.app.tokens.issue('access', user.id, ctx.clock.now()).token;
    const res = await refresh(access);
    expect(res.statusCode).toBe(401);
  });

  it('refuses an alg-none refresh token and one signed with another key', async () => {
    const claims = { sub: user.id, type: 'refresh', jti: randomUUID(), fam: randomUUID(), iat: nowSeconds(), exp: nowSeconds() + 3600 };
    expect((await refresh(forge({ alg: 'none' }, claims))).statusCode).toBe(401);
    expect((await refresh(forge({ alg: 'HS256' }, claims, 'another-key-0123456789abcdef0123456789'))).statusCode).toBe(401);
  });
});

describe('tokens of users who are gone', () => {
  it('refuses the access and refresh tokens of a deleted user', async () => {
    const doomed = await createUser(ctx.app);
    const login = await ctx.app.inject({
      method: 'POST',
      url: '/auth/login/',
      payload: { email: doomed.email, password: DEFAULT_PASSWORD },
    });
    const { access, refresh } = login.json<{ access: string; refresh: string }>();
    expect((await me(access)).statusCode).toBe(200);
    // Deleted behind the API's back (as another server would): the refresh token stops at once, the access token
    // once this worker reads the user again (AUTH_CACHE_MS, 1 s by default).
    await ctx.app.db.delete(users).where(eq(users.id, doomed.id));
    const res = await ctx.app.inject({ method: 'POST', url: '/auth/token/refresh/', payload: { refresh } });
    expect(res.statusCode).toBe(401);
    ctx.clock.advance(1_001);
    expect401(await me(access));
    ctx.clock.advance(-1_001);
  });

  it('reads the user behind a token at most once a second, and again at once after a change through the API', async () => {
    const user = await createUser(ctx.app);
    const staff = await createUser(ctx.app, { isStaff: true });
    expect((await me(user.auth.authorization.slice(7))).statusCode).toBe(200);
    // Out of band (another server): still the cached row for up to a second, then the new one.
    await ctx.app.db.update(users).set({ isActive: false }).where(eq(users.id, user.id));
    expect((await me(user.auth.authorization.slice(7))).statusCode).toBe(200);
    ctx.clock.advance(999);
    expect((await me(user.auth.authorization.slice(7))).statusCode).toBe(200);
    ctx.clock.advance(2);
    expect401(await me(user.auth.authorization.slice(7)));
    // Through the API (staff reactivates, then deactivates): each change applies to the very next request.
    for (const isActive of [true, false]) {
      const res = await ctx.app.inject({
        method: 'PATCH',
        url: `/admin/users/${user.id}/`,
        headers: staff.auth,
        payload: { is_active: isActive },
      });
      expect(res.statusCode).toBe(200);
      const answer = await me(user.auth.authorization.slice(7));
      if (isActive) expect(answer.statusCode).toBe(200);
      else expect401(answer);
    }
  });

  it('reads the user on every request with AUTH_CACHE_MS=0', async () => {
    const uncached = await buildTestApp({ env: { AUTH_CACHE_MS: '0' }, database: ctx.database, clock: ctx.clock });
    try {
      const user = await createUser(uncached.app);
      const ask = () => uncached.app.inject({ method: 'GET', url: '/auth/me/', headers: user.auth });
      expect((await ask()).statusCode).toBe(200);
      await uncached.app.db.update(users).set({ isActive: false }).where(eq(users.id, user.id));
      expect((await ask()).statusCode).toBe(401);
    } finally {
      await uncached.close();
    }
  });

  it('refuses the access and refresh tokens of a deactivated user', async () => {
    const inactive = await createUser(ctx.app);
    const login = await ctx.app.inject({
      method: 'POST',
      url: '/auth/login/',
      payload: { email: inactive.email, password: DEFAULT_PASSWORD },
    });
    const { access, refresh } = login.json<{ access: string; refresh: string }>();
    await ctx.app.db.update(users).set({ isActive: false }).where(eq(users.id, inactive.id));
    expect401(await me(access));
    const res = await ctx.app.inject({ method: 'POST', url: '/auth/token/refresh/', payload: { refresh } });
    expect(res.statusCode).toBe(401);
  });
});

describe('authentication comes before validation', () => {
  it('answers an anonymous or badly authenticated request 401 whatever its body', async () => {
    for (const headers of [{}, { authorization: 'Bearer not.a.jwt' }]) {
      const malformed = await ctx.app.inject({
        method: 'PATCH',
        url: '/auth/me/',
        headers: { ...headers, 'content-type': 'application/json' },
        payload: '{"username": ',
      });
      expect(malformed.statusCode).toBe(401);
      const invalid = await ctx.app.inject({ method: 'POST', url: '/auth/password/', headers, payload: { old_password: 1 } });
      expect(invalid.statusCode).toBe(401);
    }
  });
});

describe('TokenService with its verification cache', () => {
  it('still refuses a remembered token once it expires, and any token changed by one character', async () => {
    const { TokenService } = await import('../src/modules/auth/tokens.js');
    const tokens = new TokenService('x'.repeat(48), 60, 3600);
    const issuedAt = new Date('2030-01-01T00:00:00Z');
    const { token } = tokens.issue('access', randomUUID(), issuedAt);
    // Read twice (the second from the cache), then past its expiry.
    expect(tokens.read(token, 'access', issuedAt)?.type).toBe('access');
    expect(tokens.read(token, 'access', new Date(issuedAt.getTime() + 59_000))?.type).toBe('access');
    expect(tokens.read(token, 'access', new Date(issuedAt.getTime() + 60_000))).toBeUndefined();
    expect(tokens.read(token, 'refresh', issuedAt)).toBeUndefined();
    // A character inside the signature (the last one carries padding bits a decoder may ignore).
    const at = token.length - 10;
    const changed = `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
    expect(tokens.read(changed, 'access', issuedAt)).toBeUndefined();
  });
});
