import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestContext } from './helpers/app.js';
import { DEFAULT_PASSWORD, createOrganizer, createStaff, createUser, type TestUser } from './helpers/factories.js';
import { listOperations, type OpenApiDocument } from './helpers/openapi-contract.js';

// Who may call what: every route in the OpenAPI document × {anonymous, user, organizer, other organizer, staff}
// against the status each must get. A route without a row here fails the coverage test, so a new route
// cannot ship without its permissions being written down. Objects in the requests belong to `user` and
// `organizer`; `otherOrganizer` owns nothing of theirs.

type ActorName = 'anonymous' | 'user' | 'organizer' | 'otherOrganizer' | 'staff';
const ACTORS: ActorName[] = ['anonymous', 'user', 'organizer', 'otherOrganizer', 'staff'];

let ctx: TestContext;
let people: Record<Exclude<ActorName, 'anonymous'>, TestUser>;
beforeAll(async () => {
  ctx = await buildTestApp();
  people = {
    user: await createUser(ctx.app),
    organizer: await createOrganizer(ctx.app),
    otherOrganizer: await createOrganizer(ctx.app),
    staff: await createStaff(ctx.app),
  };
});
afterAll(async () => ctx.close());

interface Call {
  url: string;
  payload?: Record<string, unknown>;
}
interface Row {
  /** `METHOD /path/{param}/` exactly as in the OpenAPI document. */
  route: string;
  /** The request to send as `actor` (called once per actor, so it may create what it needs). */
  call: (actor: ActorName) => Promise<Call> | Call;
  expect: Record<ActorName, number>;
}

const everyone = (status: number) => Object.fromEntries(ACTORS.map((a) => [a, status])) as Record<ActorName, number>;
const signedIn = (status: number, anonymous = 401) => ({ ...everyone(status), anonymous });

async function refreshTokenOf(who: TestUser): Promise<string> {
  const res = await ctx.app.inject({ method: 'POST', url: '/auth/login/', payload: { email: who.email, password: DEFAULT_PASSWORD } });
  return (res.json() as { refresh: string }).refresh;
}

const rows: Row[] = [
  { route: 'GET /healthz', call: () => ({ url: '/healthz' }), expect: everyone(200) },
  { route: 'GET /readyz', call: () => ({ url: '/readyz' }), expect: everyone(200) },
  {
    route: 'POST /auth/register/',
    call: () => {
      const name = `signup_${randomBytes(4).toString('hex')}`;
      const password = 'Sturdy-Passphrase-91';
      return { url: '/auth/register/', payload: { email: `${name}@example.com`, username: name, password, password2: password } };
    },
    expect: everyone(201),
  },
  {
    route: 'POST /auth/login/',
    call: () => ({ url: '/auth/login/', payload: { email: people.user.email, password: DEFAULT_PASSWORD } }),
    expect: everyone(200),
  },
  {
    route: 'POST /auth/token/refresh/',
    call: async () => ({ url: '/auth/token/refresh/', payload: { refresh: await refreshTokenOf(people.user) } }),
    expect: everyone(200),
  },
  {
    // The refresh token is the credential: whoever holds it may revoke it (and can do nothing worse with it).
    route: 'POST /auth/logout/',
    call: async () => ({ url: '/auth/logout/', payload: { refresh: await refreshTokenOf(people.user) } }),
    expect: everyone(204),
  },
  { route: 'GET /auth/me/', call: () => ({ url: '/auth/me/' }), expect: signedIn(200) },
  {
    route: 'PUT /auth/me/',
    call: (actor) => {
      const me = actor === 'anonymous' ? people.user : people[actor];
      return { url: '/auth/me/', payload: { email: me.email, username: me.username, is_organizer: me.isOrganizer } };
    },
    expect: signedIn(200),
  },
  { route: 'PATCH /auth/me/', call: () => ({ url: '/auth/me/', payload: {} }), expect: signedIn(200) },
  {
    // A wrong old password: authenticated callers get as far as the check (400), anonymous ones do not.
    route: 'POST /auth/password/',
    call: () => ({ url: '/auth/password/', payload: { old_password: 'wrong-password-1', new_password: 'Another-Passphrase-77' } }),
    expect: signedIn(400),
  },
  {
    route: 'GET /auth/all/',
    call: () => ({ url: '/auth/all/' }),
    expect: { anonymous: 401, user: 403, organizer: 403, otherOrganizer: 403, staff: 200 },
  },
];

describe('authorization matrix', () => {
  it('has a row for every route in the OpenAPI document', () => {
    const documented = listOperations(ctx.app.swagger() as unknown as OpenApiDocument).map((op) => op.name);
    const covered = new Set(rows.map((r) => r.route));
    expect(documented.filter((name) => !covered.has(name))).toEqual([]);
    expect([...covered].filter((name) => !documented.includes(name))).toEqual([]);
  });

  it.each(rows.map((row) => [row.route, row] as const))('%s', async (_route, row) => {
    const method = row.route.split(' ')[0] as 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
    const got: Record<string, number> = {};
    for (const actor of ACTORS) {
      const call = await row.call(actor);
      const res = await ctx.app.inject({
        method,
        url: call.url,
        headers: actor === 'anonymous' ? {} : people[actor].auth,
        ...(call.payload ? { payload: call.payload } : {}),
      });
      got[actor] = res.statusCode;
    }
    expect(got).toEqual(row.expect);
  });
});
