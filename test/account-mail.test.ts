import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestContext } from './helpers/app.js';
import { createEvent, createOrganizer, createUser, DEFAULT_PASSWORD, registerFor, type TestUser } from './helpers/factories.js';
import { buildMailTestApp, type MailContext } from './helpers/mail.js';

let ctx: MailContext;
beforeAll(async () => {
  ctx = await buildMailTestApp();
});
afterAll(async () => ctx.close());

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  ctx.app.inject({ method: 'POST', url, payload: payload as Record<string, unknown>, headers });

/** The token of the last mail to `email` whose subject is `subject`, as its link carries it. */
function tokenFrom(email: string, subject: string, path: string): string {
  const mail = ctx.smtp
    .to(email)
    .filter((m) => m.parsed.subject === subject)
    .at(-1);
  if (!mail) throw new Error(`no "${subject}" mail to ${email}`);
  const match = new RegExp(`https://tickets\\.example\\.test${path}\\?token=([^\\s"&]+)`).exec(mail.parsed.text ?? '');
  return decodeURIComponent(match![1]!);
}

async function login(email: string, password: string) {
  return post('/auth/login/', { email, password });
}

describe('password reset', () => {
  it('end to end: same answer for unknown emails, single-use token, new password, every old session refused', async () => {
    const user = await createUser(ctx.app);
    const session = (await login(user.email, DEFAULT_PASSWORD)).json();

    const known = await post('/auth/password/reset/', { email: user.email.toUpperCase() });
    const unknown = await post('/auth/password/reset/', { email: 'nobody@example.com' });
    expect(known.statusCode).toBe(202);
    expect(unknown.statusCode).toBe(202);
    expect(unknown.json()).toEqual(known.json());
    await ctx.deliver();
    expect(ctx.smtp.to('nobody@example.com')).toEqual([]);
    const token = tokenFrom(user.email, 'Reset your password', '/app/reset-password');

    // The same password rules as sign-up; a refused password does not spend the token.
    const weak = await post('/auth/password/reset/confirm/', { token, new_password: '12345678' });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().new_password).toContain('This password is entirely numeric.');

    const done = await post('/auth/password/reset/confirm/', { token, new_password: 'Brand-New-Secret-77' });
    expect(done.statusCode).toBe(204);
    expect((await post('/auth/token/refresh/', { refresh: session.refresh })).statusCode).toBe(401);
    expect((await login(user.email, DEFAULT_PASSWORD)).statusCode).toBe(401);
    expect((await login(user.email, 'Brand-New-Secret-77')).statusCode).toBe(200);

    const again = await post('/auth/password/reset/confirm/', { token, new_password: 'Another-Secret-88' });
    expect(again.statusCode).toBe(400);
    expect(again.json()).toEqual({ token: ['This password reset link is invalid or has expired.'] });
  });

  it('a token expires after one hour', async () => {
    const user = await createUser(ctx.app);
    await post('/auth/password/reset/', { email: user.email });
    await ctx.deliver();
    const token = tokenFrom(user.email, 'Reset your password', '/app/reset-password');
    ctx.clock.advance(60 * 60_000 + 1_000);
    const late = await post('/auth/password/reset/confirm/', { token, new_password: 'Brand-New-Secret-77' });
    expect(late.statusCode).toBe(400);
    expect((await login(user.email, DEFAULT_PASSWORD)).statusCode).toBe(200);
  });

  it('an invalid token is a 400 on token, never a 500', async () => {
    for (const token of ['x', 'a'.repeat(200), '../../etc', '%00']) {
      const res = await post('/auth/password/reset/confirm/', { token, new_password: 'Brand-New-Secret-77' });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toHaveProperty('token');
    }
  });
});

describe('email verification', () => {
  it('sign-up mails a link; the profile says whether the address is verified; the token works for that address only', async () => {
    const signUp = await post('/auth/register/', {
      email: 'ada@example.com',
      username: 'ada',
      password: 'Analytical-Engine-1843',
      password2: 'Analytical-Engine-1843',
    });
    expect(signUp.statusCode).toBe(201);
    const { access } = (await login('ada@example.com', 'Analytical-Engine-1843')).json();
    const auth = { authorization: `Bearer ${access}` };
    const me = () => ctx.app.inject({ method: 'GET', url: '/auth/me/', headers: auth });
    expect((await me()).json().is_email_verified).toBe(false);

    await ctx.deliver();
    const token = tokenFrom('ada@example.com', 'Confirm your email address', '/app/verify-email');
    const verified = await post('/auth/email/verify/', { token });
    expect(verified.statusCode).toBe(200);
    expect(verified.json()).toMatchObject({ email: 'ada@example.com', is_email_verified: true });
    expect((await me()).json().is_email_verified).toBe(true);

    // A new address is unverified again, gets its own link, and the old link proves nothing for it.
    const changed = await ctx.app.inject({
      method: 'PATCH',
      url: '/auth/me/',
      headers: auth,
      payload: { email: 'ada@lovelace.example', current_password: 'Analytical-Engine-1843' },
    });
    expect(changed.json().is_email_verified).toBe(false);
    expect((await post('/auth/email/verify/', { token })).statusCode).toBe(400);
    await ctx.deliver();
    const second = tokenFrom('ada@lovelace.example', 'Confirm your email address', '/app/verify-email');
    expect((await post('/auth/email/verify/', { token: second })).json().is_email_verified).toBe(true);
  });

  it('with REQUIRE_EMAIL_VERIFICATION=true, registering for an event needs a verified address', async () => {
    const strict: TestContext = await buildTestApp({
      database: ctx.database,
      clock: ctx.clock,
      env: { REQUIRE_EMAIL_VERIFICATION: 'true' },
    });
    try {
      const organizer: TestUser = await createOrganizer(strict.app);
      const event = await createEvent(strict.app, organizer);
      const user = await createUser(strict.app);
      const refused = await registerFor(strict.app, user, event.id, 1);
      expect(refused.statusCode).toBe(403);
      expect(refused.json().code).toBe('email_not_verified');

      await strict.app.inject({ method: 'POST', url: '/auth/email/verify/resend/', headers: user.auth });
      await ctx.deliver();
      const token = tokenFrom(user.email, 'Confirm your email address', '/app/verify-email');
      expect((await strict.app.inject({ method: 'POST', url: '/auth/email/verify/', payload: { token } })).statusCode).toBe(200);
      expect((await registerFor(strict.app, user, event.id, 1)).statusCode).toBe(201);
    } finally {
      await strict.close();
    }
  });
});

describe('password reset throttling', () => {
  it('3 mails per address per hour (then still 202, nothing sent), 20 requests per IP per hour (then 429)', async () => {
    const limited = await buildTestApp({ database: ctx.database, clock: ctx.clock, env: { RATE_LIMITS: 'on' } });
    try {
      const user = await createUser(limited.app);
      const ask = (email: string) =>
        limited.app.inject({ method: 'POST', url: '/auth/password/reset/', payload: { email }, remoteAddress: '203.0.113.9' });
      for (let i = 0; i < 5; i++) expect((await ask(user.email)).statusCode).toBe(202);
      await ctx.deliver();
      expect(ctx.smtp.to(user.email).filter((m) => m.parsed.subject === 'Reset your password')).toHaveLength(3);
      for (let i = 5; i < 20; i++) expect((await ask(`nobody-${i}@example.com`)).statusCode).toBe(202);
      const refused = await ask(user.email);
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['retry-after']).toBeDefined();
    } finally {
      await limited.close();
    }
  });
});
