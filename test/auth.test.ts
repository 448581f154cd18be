import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestContext } from './helpers/app.js';
import { DEFAULT_PASSWORD, authHeader, createStaff, createUser } from './helpers/factories.js';
import { updateUser } from '../src/modules/users/users.repository.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp();
});
afterAll(async () => ctx.close());

let counter = 0;
const signUpBody = (overrides: Record<string, unknown> = {}) => {
  counter++;
  return {
    email: `person${counter}@example.com`,
    username: `person_${counter}`,
    password: 'SecurePass123!',
    password2: 'SecurePass123!',
    is_organizer: true,
    ...overrides,
  };
};
const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  ctx.app.inject({ method: 'POST', url, payload: payload as object, headers });

async function loginTokens(email: string, password = DEFAULT_PASSWORD) {
  const res = await post('/auth/login/', { email, password });
  expect(res.statusCode).toBe(200);
  return res.json<{ access: string; refresh: string }>();
}

describe('POST /auth/register/', () => {
  it('creates a user and answers 201 with the contract fields, never the hash', async () => {
    const body = signUpBody();
    const res = await post('/auth/register/', body);
    expect(res.statusCode).toBe(201);
    const json = res.json();
    expect(json).toMatchObject({ email: body.email, username: body.username, is_organizer: true });
    expect(Object.keys(json).sort()).toEqual(['email', 'id', 'is_organizer', 'username']);
    const tokens = await loginTokens(body.email, body.password);
    const me = await ctx.app.inject({ url: '/auth/me/', headers: { authorization: `Bearer ${tokens.access}` } });
    expect(me.json()).toMatchObject({ email: body.email, is_staff: false, is_active: true });
    expect(JSON.stringify(me.json())).not.toContain('argon2');
  });

  it('reports every missing field and a bad email per field', async () => {
    const res = await post('/auth/register/', { email: 'not-an-email' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      email: ['Enter a valid email address.'],
      username: ['This field is required.'],
      password: ['This field is required.'],
      password2: ['This field is required.'],
    });
  });

  it('rejects mismatched and weak passwords with the reference messages', async () => {
    const mismatch = await post('/auth/register/', signUpBody({ password2: 'SecurePass123?' }));
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.json().password2).toEqual(["Password fields didn't match."]);

    const cases: [string, string][] = [
      ['Ab1!', 'too short'],
      ['8472910365', 'entirely numeric'],
      ['password123', 'too common'],
    ];
    for (const [password, fragment] of cases) {
      const res = await post('/auth/register/', signUpBody({ password, password2: password }));
      expect(res.statusCode, password).toBe(400);
      expect(res.json().password.join(' ')).toContain(fragment);
    }
    const similar = signUpBody({ username: 'margaretha', password: 'margaretha1', password2: 'margaretha1' });
    const res = await post('/auth/register/', similar);
    expect(res.statusCode).toBe(400);
    expect(res.json().password.join(' ')).toContain('too similar to the username');
  });

  it('refuses passwords from public breach lists, whatever their case', async () => {
    for (const password of ['password1', 'qwerty123', 'iloveyou', 'dragon123', 'sunshine1', 'trustno1', 'Football1', 'PASSW0RD']) {
      const res = await post('/auth/register/', signUpBody({ password, password2: password }));
      expect(res.statusCode, password).toBe(400);
      expect(res.json().password, password).toContain('This password is too common.');
    }
  });

  it('refuses duplicate email (any case) and username', async () => {
    const body = signUpBody();
    expect((await post('/auth/register/', body)).statusCode).toBe(201);
    const sameEmail = await post('/auth/register/', signUpBody({ email: body.email.toUpperCase() }));
    expect(sameEmail.statusCode).toBe(400);
    expect(sameEmail.json()).toEqual({ email: ['user with this email already exists.'] });
    const sameName = await post('/auth/register/', signUpBody({ username: body.username }));
    expect(sameName.statusCode).toBe(400);
    expect(sameName.json()).toEqual({ username: ['A user with that username already exists.'] });
  });

  it('lets exactly one of many identical concurrent sign-ups win; the rest get 400, never 500', async () => {
    const body = signUpBody();
    const results = await Promise.all(Array.from({ length: 8 }, () => post('/auth/register/', body)));
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes).toEqual([201, 400, 400, 400, 400, 400, 400, 400]);
  });

  it('never makes anyone staff, whatever the body says', async () => {
    const body = signUpBody({ is_staff: true, is_active: false });
    expect((await post('/auth/register/', body)).statusCode).toBe(201);
    const tokens = await loginTokens(body.email, body.password);
    const me = await ctx.app.inject({ url: '/auth/me/', headers: { authorization: `Bearer ${tokens.access}` } });
    expect(me.json()).toMatchObject({ is_staff: false, is_active: true });
  });
});

describe('POST /auth/login/', () => {
  it('accepts the email (any case) or the username', async () => {
    const user = await createUser(ctx.app);
    await loginTokens(user.email.toUpperCase());
    const byName = await post('/auth/login/', { username: user.username, password: DEFAULT_PASSWORD });
    expect(byName.statusCode).toBe(200);
    expect(byName.json()).toHaveProperty('access');
  });

  it('answers wrong password, unknown user and inactive user with the same 401', async () => {
    const user = await createUser(ctx.app);
    const inactive = await createUser(ctx.app, { isActive: false });
    const responses = await Promise.all([
      post('/auth/login/', { email: user.email, password: 'wrong-password' }),
      post('/auth/login/', { email: 'nobody@example.com', password: DEFAULT_PASSWORD }),
      post('/auth/login/', { email: inactive.email, password: DEFAULT_PASSWORD }),
    ]);
    for (const res of responses) {
      expect(res.statusCode).toBe(401);
      expect(res.json().detail).toBe('No active account found with the given credentials');
    }
  });

  it('requires an email or username', async () => {
    const res = await post('/auth/login/', { password: 'x' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ email: ['This field is required.'] });
  });
});

describe('login throttling', () => {
  it('locks an account after repeated failures with 429 and Retry-After, while other accounts still log in', async () => {
    const limited = await buildTestApp({
      env: { RATE_LIMITS: 'on', LOGIN_FAILURES_PER_ACCOUNT: '3', LOGIN_FAILURES_PER_IP: '100' },
      database: ctx.database,
    });
    try {
      const victim = await createUser(limited.app);
      const other = await createUser(limited.app);
      for (let i = 0; i < 3; i++) {
        const res = await limited.app.inject({ method: 'POST', url: '/auth/login/', payload: { email: victim.email, password: 'nope' } });
        expect(res.statusCode).toBe(401);
      }
      const blocked = await limited.app.inject({
        method: 'POST',
        url: '/auth/login/',
        payload: { email: victim.email, password: DEFAULT_PASSWORD },
      });
      expect(blocked.statusCode).toBe(429);
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      const fine = await limited.app.inject({
        method: 'POST',
        url: '/auth/login/',
        payload: { email: other.email, password: DEFAULT_PASSWORD },
      });
      expect(fine.statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('throttles failures per client IP across accounts, and sign-ups per IP', async () => {
    const limited = await buildTestApp({
      env: { RATE_LIMITS: 'on', LOGIN_FAILURES_PER_ACCOUNT: '100', LOGIN_FAILURES_PER_IP: '4', SIGNUPS_PER_IP_PER_HOUR: '2' },
      database: ctx.database,
    });
    try {
      for (let i = 0; i < 4; i++) {
        await limited.app.inject({ method: 'POST', url: '/auth/login/', payload: { email: `ghost${i}@example.com`, password: 'nope' } });
      }
      const blocked = await limited.app.inject({
        method: 'POST',
        url: '/auth/login/',
        payload: { email: 'ghost9@example.com', password: 'nope' },
      });
      expect(blocked.statusCode).toBe(429);

      const signups = [];
      for (let i = 0; i < 3; i++) {
        signups.push((await limited.app.inject({ method: 'POST', url: '/auth/register/', payload: signUpBody() })).statusCode);
      }
      expect(signups).toEqual([201, 201, 429]);
    } finally {
      await limited.close();
    }
  });

  // Two app instances on one database stand for two worker processes (or two containers).
  it.skipIf(!process.env.TEST_DATABASE_URL)('counts failures from every process on one PostgreSQL together', async () => {
    const env = { RATE_LIMITS: 'on', LOGIN_FAILURES_PER_ACCOUNT: '4', LOGIN_FAILURES_PER_IP: '1000' };
    const [a, b] = [await buildTestApp({ env, database: ctx.database }), await buildTestApp({ env, database: ctx.database })];
    try {
      const victim = await createUser(a.app);
      const attempt = (app: typeof a.app, password: string) =>
        app.inject({ method: 'POST', url: '/auth/login/', payload: { email: victim.email, password } });
      const failures = [];
      for (const app of [a.app, b.app, a.app, b.app]) failures.push((await attempt(app, 'wrong')).statusCode);
      expect(failures).toEqual([401, 401, 401, 401]);
      expect((await attempt(a.app, DEFAULT_PASSWORD)).statusCode).toBe(429);
      expect((await attempt(b.app, DEFAULT_PASSWORD)).statusCode).toBe(429);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('RATE_LIMITS=off disables them', async () => {
    const user = await createUser(ctx.app);
    for (let i = 0; i < 8; i++) await post('/auth/login/', { email: user.email, password: 'nope' });
    expect((await post('/auth/login/', { email: user.email, password: DEFAULT_PASSWORD })).statusCode).toBe(200);
  });
});

describe('refresh tokens', () => {
  it('rotates: the new pair works and the old refresh token is refused', async () => {
    const user = await createUser(ctx.app);
    const first = await loginTokens(user.email);
    const rotated = await post('/auth/token/refresh/', { refresh: first.refresh });
    expect(rotated.statusCode).toBe(200);
    const second = rotated.json();
    expect(second.refresh).not.toBe(first.refresh);
    const me = await ctx.app.inject({ url: '/auth/me/', headers: { authorization: `Bearer ${second.access}` } });
    expect(me.statusCode).toBe(200);
    expect((await post('/auth/token/refresh/', { refresh: second.refresh })).statusCode).toBe(200);
  });

  it('revokes the whole family when a rotated token is replayed', async () => {
    const user = await createUser(ctx.app);
    const first = await loginTokens(user.email);
    const second = (await post('/auth/token/refresh/', { refresh: first.refresh })).json();
    const replay = await post('/auth/token/refresh/', { refresh: first.refresh });
    expect(replay.statusCode).toBe(401);
    // The legitimate latest token is dead too: the family is burnt.
    expect((await post('/auth/token/refresh/', { refresh: second.refresh })).statusCode).toBe(401);
    // Other sessions of the same user are untouched.
    const other = await loginTokens(user.email);
    expect((await post('/auth/token/refresh/', { refresh: other.refresh })).statusCode).toBe(200);
  });

  it('lets only one of two concurrent refreshes of one token succeed', async () => {
    const user = await createUser(ctx.app);
    const { refresh } = await loginTokens(user.email);
    const results = await Promise.all([post('/auth/token/refresh/', { refresh }), post('/auth/token/refresh/', { refresh })]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 401]);
  });

  it('expires after the refresh lifetime (1 day by default)', async () => {
    const user = await createUser(ctx.app);
    const { refresh } = await loginTokens(user.email);
    ctx.clock.advance(24 * 3600 * 1000 + 1000);
    try {
      expect((await post('/auth/token/refresh/', { refresh })).statusCode).toBe(401);
    } finally {
      ctx.clock.advance(-(24 * 3600 * 1000 + 1000));
    }
  });

  it('logout revokes the refresh token; an access token is not accepted as a refresh token', async () => {
    const user = await createUser(ctx.app);
    const { access, refresh } = await loginTokens(user.email);
    expect((await post('/auth/token/refresh/', { refresh: access })).statusCode).toBe(401);
    expect((await post('/auth/logout/', { refresh })).statusCode).toBe(204);
    expect((await post('/auth/token/refresh/', { refresh })).statusCode).toBe(401);
  });
});

describe('access tokens', () => {
  it('answers missing, malformed, tampered, expired and refresh-type tokens with 401 and WWW-Authenticate', async () => {
    const user = await createUser(ctx.app);
    const { access, refresh } = await loginTokens(user.email);
    const [head, payload] = access.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), sub: user.id, type: 'access' }),
    ).toString('base64url');
    const noneAlg = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
    const headers: Record<string, string>[] = [
      {},
      { authorization: 'Bearer' },
      { authorization: 'Bearer not-a-jwt' },
      { authorization: `Bearer ${head}.${forged}.invalidsig` },
      { authorization: `Bearer ${noneAlg}` },
      { authorization: `Bearer ${refresh}` },
    ];
    for (const h of headers) {
      const res = await ctx.app.inject({ url: '/auth/me/', headers: h });
      expect(res.statusCode, JSON.stringify(h)).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.json()).toHaveProperty('detail');
    }
    ctx.clock.advance(5 * 60 * 1000 + 1000);
    try {
      expect((await ctx.app.inject({ url: '/auth/me/', headers: { authorization: `Bearer ${access}` } })).statusCode).toBe(401);
    } finally {
      ctx.clock.advance(-(5 * 60 * 1000 + 1000));
    }
  });

  it('stops working as soon as the user is deactivated', async () => {
    const user = await createUser(ctx.app);
    expect((await ctx.app.inject({ url: '/auth/me/', headers: user.auth })).statusCode).toBe(200);
    await updateUser(ctx.app.db, user.id, { isActive: false });
    expect((await ctx.app.inject({ url: '/auth/me/', headers: user.auth })).statusCode).toBe(401);
  });
});

describe('/auth/me/', () => {
  it('updates username, email and is_organizer; ignores read-only fields', async () => {
    const user = await createUser(ctx.app);
    const res = await ctx.app.inject({
      method: 'PATCH',
      url: '/auth/me/',
      headers: user.auth,
      payload: { username: `renamed_${user.username}`, is_organizer: true, is_staff: true, id: '00000000-0000-0000-0000-000000000000' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: user.id, username: `renamed_${user.username}`, is_organizer: true, is_staff: false });
  });

  it('PUT needs username (email is optional, as in the reference); uniqueness is checked case-insensitively', async () => {
    const user = await createUser(ctx.app);
    const other = await createUser(ctx.app);
    const missing = await ctx.app.inject({ method: 'PUT', url: '/auth/me/', headers: user.auth, payload: { email: user.email } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toEqual({ username: ['This field is required.'] });
    const taken = await ctx.app.inject({
      method: 'PUT',
      url: '/auth/me/',
      headers: user.auth,
      payload: { email: other.email.toUpperCase(), username: user.username },
    });
    expect(taken.statusCode).toBe(400);
    expect(taken.json()).toEqual({ email: ['user with this email already exists.'] });
    const own = await ctx.app.inject({
      method: 'PUT',
      url: '/auth/me/',
      headers: user.auth,
      payload: { email: user.email, username: user.username },
    });
    expect(own.statusCode).toBe(200);
  });
});

describe('POST /auth/password/', () => {
  it('needs the old password, then revokes refresh tokens and accepts the new password', async () => {
    const user = await createUser(ctx.app);
    const { refresh } = await loginTokens(user.email);
    const wrong = await post('/auth/password/', { old_password: 'nope', new_password: 'Another-Secret-99' }, user.auth);
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toHaveProperty('old_password');
    const ok = await post('/auth/password/', { old_password: DEFAULT_PASSWORD, new_password: 'Another-Secret-99' }, user.auth);
    expect(ok.statusCode).toBe(204);
    expect((await post('/auth/token/refresh/', { refresh })).statusCode).toBe(401);
    expect((await post('/auth/login/', { email: user.email, password: DEFAULT_PASSWORD })).statusCode).toBe(401);
    await loginTokens(user.email, 'Another-Secret-99');
  });
});

describe('GET /auth/all/', () => {
  it('is staff only and paginated', async () => {
    const staff = await createStaff(ctx.app);
    const plain = await createUser(ctx.app);
    expect((await ctx.app.inject({ url: '/auth/all/' })).statusCode).toBe(401);
    expect((await ctx.app.inject({ url: '/auth/all/', headers: plain.auth })).statusCode).toBe(403);
    const page = await ctx.app.inject({ url: '/auth/all/?page_size=2', headers: authHeader(ctx.app, staff.id) });
    expect(page.statusCode).toBe(200);
    const json = page.json();
    expect(json.results).toHaveLength(2);
    expect(json.count).toBeGreaterThanOrEqual(2);
    expect(json.previous).toBeNull();
    expect(json.next).toMatch(/^http:\/\/localhost(:\d+)?\/auth\/all\/\?page_size=2&page=2$/);
    expect(JSON.stringify(json)).not.toContain('password');
  });
});
