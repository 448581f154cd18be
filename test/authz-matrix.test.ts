import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestContext } from './helpers/app.js';
import { listOperations, type OpenApiDocument } from './helpers/openapi-contract.js';
import { categories, feedbacks, outbox, webhookDeliveries, webhookEndpoints } from '../src/db/schema.js';
import { unsubscribeToken } from '../src/modules/mail/mail.service.js';
import { notify } from '../src/modules/notifications/notifications.service.js';
import {
  DEFAULT_PASSWORD,
  createEvent,
  createOrganizer,
  createStaff,
  createUser,
  insertFeedback,
  insertRegistration,
  type TestUser,
} from './helpers/factories.js';

// Who may call what: every route in the OpenAPI document × {anonymous, user, organizer, other organizer, staff}
// against the status each must get. A route without a row here fails the coverage test, so a new route
// cannot ship without its permissions being written down. Objects in the requests belong to `user` and
// `organizer`; `otherOrganizer` owns nothing of theirs.

type ActorName = 'anonymous' | 'user' | 'organizer' | 'otherOrganizer' | 'staff';
const ACTORS: ActorName[] = ['anonymous', 'user', 'organizer', 'otherOrganizer', 'staff'];

let ctx: TestContext;
let people: Record<Exclude<ActorName, 'anonymous'>, TestUser>;
/** The organizer's upcoming event. */
let event: { id: string };
let category: { id: string };
beforeAll(async () => {
  ctx = await buildTestApp();
  people = {
    user: await createUser(ctx.app),
    organizer: await createOrganizer(ctx.app),
    otherOrganizer: await createOrganizer(ctx.app),
    staff: await createStaff(ctx.app),
  };
  event = await createEvent(ctx.app, people.organizer, { dateTime: new Date('2030-06-01T18:00:00Z') });
  category = await newCategory();
});

const suffix = () => randomBytes(4).toString('hex');
async function newCategory() {
  const name = `Category ${suffix()}`;
  const [row] = await ctx.app.db
    .insert(categories)
    .values({ name, slug: name.toLowerCase().replace(' ', '-') })
    .returning();
  return row!;
}
/** A past event of the organizer's where `user` held two seats. */
async function attendedEvent() {
  const past = await createEvent(ctx.app, people.organizer, { dateTime: new Date('2029-12-01T18:00:00Z') });
  await insertRegistration(ctx.app.db, { userId: people.user.id, eventId: past.id, quantity: 2, status: 'registered' });
  return past;
}
/** `user`'s feedback on an event they attended. */
async function userFeedback() {
  const past = await attendedEvent();
  await insertFeedback(ctx.app.db, { userId: people.user.id, eventId: past.id, rating: 4 });
  const [row] = await ctx.app.db.select().from(feedbacks).where(eq(feedbacks.eventId, past.id));
  return row!;
}
async function userNotification() {
  const [row] = await notify(
    ctx.app.db,
    { userId: people.user.id, eventId: event.id, kind: 'registered', message: 'You have successfully registered.' },
    ctx.clock.now(),
  );
  return row!;
}
/** `user`'s two-seat registration, made through the API, on a fresh event of the organizer's. */
async function userRegistration(): Promise<{ id: string; ticket_instances: { code: string }[] }> {
  const fresh = await createEvent(ctx.app, people.organizer);
  const res = await ctx.app.inject({
    method: 'POST',
    url: '/registrations/',
    headers: people.user.auth,
    payload: { event: fresh.id, quantity: 2 },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}
const eventBody = () => ({
  title: `Concert ${suffix()}`,
  location: 'Main hall',
  date_time: '2030-07-01T19:00:00Z',
  capacity: 50,
});
afterAll(async () => ctx.close());

/** A webhook endpoint of the organizer's (public address literal: no DNS), with one delivered message and its attempt. */
async function organizerWebhook() {
  const [endpoint] = await ctx.app.db
    .insert(webhookEndpoints)
    .values({
      ownerId: people.organizer.id,
      url: 'https://93.184.215.14/hooks',
      eventTypes: ['registration.created'],
      secret: 'whsec_c2VjcmV0',
    })
    .returning();
  const now = ctx.clock.now();
  const [message] = await ctx.app.db
    .insert(outbox)
    .values({
      channel: 'webhook',
      payload: { endpointId: endpoint!.id, type: 'webhook.ping', body: '{}' },
      status: 'sent',
      nextAttemptAt: now,
      finishedAt: now,
    })
    .returning();
  const [delivery] = await ctx.app.db
    .insert(webhookDeliveries)
    .values({
      endpointId: endpoint!.id,
      messageId: message!.id,
      eventType: 'webhook.ping',
      attemptedAt: now,
      succeeded: true,
      statusCode: 200,
      durationMs: 5,
    })
    .returning();
  return { endpoint: endpoint!, delivery: delivery! };
}
const organizerStaffNotOthers = (status: number) => ({ anonymous: 401, user: 403, organizer: status, otherOrganizer: 404, staff: status });
const organizersAndStaff = (status: number) => ({ anonymous: 401, user: 403, organizer: status, otherOrganizer: status, staff: status });

interface Call {
  url: string;
  payload?: Record<string, unknown>;
  /** Send without the actor's token (the credential is in the URL). */
  anonymous?: boolean;
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
const staffOnly = (status: number) => ({ anonymous: 401, user: 403, organizer: 403, otherOrganizer: 403, staff: status });
const ownerOrStaff = (status: number) => ({ anonymous: 401, user: 403, organizer: status, otherOrganizer: 403, staff: status });
const holderOrganizerStaff = (status: number) => ({ anonymous: 401, user: status, organizer: status, otherOrganizer: 404, staff: status });
const ownOnly = (status: number) => ({ anonymous: 401, user: status, organizer: 404, otherOrganizer: 404, staff: 404 });

async function refreshTokenOf(who: TestUser): Promise<string> {
  const res = await ctx.app.inject({ method: 'POST', url: '/auth/login/', payload: { email: who.email, password: DEFAULT_PASSWORD } });
  return res.json<{ refresh: string }>().refresh;
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

  // The staff admin: staff only, every route.
  { route: 'GET /admin/users/', call: () => ({ url: '/admin/users/?search=user' }), expect: staffOnly(200) },
  { route: 'GET /admin/users/{id}/', call: () => ({ url: `/admin/users/${people.user.id}/` }), expect: staffOnly(200) },
  {
    route: 'PATCH /admin/users/{id}/',
    call: () => ({ url: `/admin/users/${people.user.id}/`, payload: { is_organizer: false } }),
    expect: staffOnly(200),
  },
  { route: 'GET /admin/events/', call: () => ({ url: '/admin/events/?include_past=true' }), expect: staffOnly(200) },
  {
    route: 'POST /admin/events/{id}/deactivate/',
    call: async () => ({ url: `/admin/events/${(await createEvent(ctx.app, people.organizer)).id}/deactivate/` }),
    expect: staffOnly(200),
  },
  { route: 'POST /admin/events/{id}/reactivate/', call: () => ({ url: `/admin/events/${event.id}/reactivate/` }), expect: staffOnly(200) },
  { route: 'GET /admin/feedbacks/', call: () => ({ url: '/admin/feedbacks/?rating=4' }), expect: staffOnly(200) },
  { route: 'GET /admin/system/', call: () => ({ url: '/admin/system/' }), expect: staffOnly(200) },
  { route: 'POST /admin/system/integrity/', call: () => ({ url: '/admin/system/integrity/' }), expect: staffOnly(200) },
  { route: 'GET /admin/audit-log/', call: () => ({ url: '/admin/audit-log/' }), expect: staffOnly(200) },

  // Categories: public to read, staff to write.
  { route: 'GET /categories/', call: () => ({ url: '/categories/' }), expect: everyone(200) },
  { route: 'GET /categories/{id}/', call: () => ({ url: `/categories/${category.id}/` }), expect: everyone(200) },
  { route: 'POST /categories/', call: () => ({ url: '/categories/', payload: { name: `New ${suffix()}` } }), expect: staffOnly(201) },
  {
    route: 'PUT /categories/{id}/',
    call: () => ({ url: `/categories/${category.id}/`, payload: { name: `Renamed ${suffix()}` } }),
    expect: staffOnly(200),
  },
  {
    route: 'PATCH /categories/{id}/',
    call: () => ({ url: `/categories/${category.id}/`, payload: { name: `Patched ${suffix()}` } }),
    expect: staffOnly(200),
  },
  { route: 'DELETE /categories/{id}/', call: async () => ({ url: `/categories/${(await newCategory()).id}/` }), expect: staffOnly(204) },

  // Events: public to read; organizers create; the owner (and staff) edit.
  { route: 'GET /events/', call: () => ({ url: '/events/' }), expect: everyone(200) },
  { route: 'GET /events/{id}/', call: () => ({ url: `/events/${event.id}/` }), expect: everyone(200) },
  { route: 'GET /events/{id}/calendar.ics', call: () => ({ url: `/events/${event.id}/calendar.ics` }), expect: everyone(200) },
  { route: 'GET /events/mine/', call: () => ({ url: '/events/mine/' }), expect: signedIn(200) },
  { route: 'GET /events/{id}/stats/', call: () => ({ url: `/events/${event.id}/stats/` }), expect: ownerOrStaff(200) },
  {
    route: 'POST /events/create/',
    call: () => ({ url: '/events/create/', payload: eventBody() }),
    expect: { anonymous: 401, user: 403, organizer: 201, otherOrganizer: 201, staff: 201 },
  },
  { route: 'PUT /events/{id}/edit/', call: () => ({ url: `/events/${event.id}/edit/`, payload: eventBody() }), expect: ownerOrStaff(200) },
  {
    route: 'PATCH /events/{id}/edit/',
    call: () => ({ url: `/events/${event.id}/edit/`, payload: { title: `Retitled ${suffix()}` } }),
    expect: ownerOrStaff(200),
  },
  {
    route: 'DELETE /events/{id}/edit/',
    call: async () => ({ url: `/events/${(await createEvent(ctx.app, people.organizer)).id}/edit/` }),
    expect: ownerOrStaff(204),
  },

  // Feedback: public to read; attendees write their own; staff may delete (moderation).
  { route: 'GET /feedbacks/', call: () => ({ url: '/feedbacks/' }), expect: everyone(200) },
  { route: 'GET /feedbacks/{id}/', call: async () => ({ url: `/feedbacks/${(await userFeedback()).id}/` }), expect: everyone(200) },
  {
    route: 'POST /feedbacks/',
    call: async () => ({ url: '/feedbacks/', payload: { event: (await attendedEvent()).id, rating: 5 } }),
    expect: { anonymous: 401, user: 201, organizer: 403, otherOrganizer: 403, staff: 403 },
  },
  {
    route: 'PUT /feedbacks/{id}/',
    call: async () => ({ url: `/feedbacks/${(await userFeedback()).id}/`, payload: { rating: 2, comment: 'Changed my mind' } }),
    expect: { anonymous: 401, user: 200, organizer: 403, otherOrganizer: 403, staff: 403 },
  },
  {
    route: 'PATCH /feedbacks/{id}/',
    call: async () => ({ url: `/feedbacks/${(await userFeedback()).id}/`, payload: { rating: 3 } }),
    expect: { anonymous: 401, user: 200, organizer: 403, otherOrganizer: 403, staff: 403 },
  },
  {
    route: 'DELETE /feedbacks/{id}/',
    call: async () => ({ url: `/feedbacks/${(await userFeedback()).id}/` }),
    expect: { anonymous: 401, user: 204, organizer: 403, otherOrganizer: 403, staff: 204 },
  },

  // Notifications: strictly the recipient's; anyone else's id is a 404, staff included.
  { route: 'GET /notifications/', call: () => ({ url: '/notifications/' }), expect: signedIn(200) },
  { route: 'GET /notifications/unread-count/', call: () => ({ url: '/notifications/unread-count/' }), expect: signedIn(200) },
  { route: 'POST /notifications/mark-all-as-read/', call: () => ({ url: '/notifications/mark-all-as-read/' }), expect: signedIn(200) },
  {
    route: 'PATCH /notifications/{id}/mark-as-read/',
    call: async () => ({ url: `/notifications/${(await userNotification()).id}/mark-as-read/` }),
    expect: ownOnly(200),
  },
  {
    route: 'DELETE /notifications/{id}/',
    call: async () => ({ url: `/notifications/${(await userNotification()).id}/` }),
    expect: ownOnly(204),
  },
  // Registrations and tickets: the holder, the event's organizer and staff; any other organizer sees nothing.
  {
    route: 'POST /registrations/',
    call: async () => ({ url: '/registrations/', payload: { event: (await createEvent(ctx.app, people.organizer)).id, quantity: 1 } }),
    expect: signedIn(201),
  },
  { route: 'GET /registrations/mine/', call: () => ({ url: '/registrations/mine/' }), expect: signedIn(200) },
  {
    route: 'GET /registrations/{id}/',
    call: async () => ({ url: `/registrations/${(await userRegistration()).id}/` }),
    expect: holderOrganizerStaff(200),
  },
  {
    route: 'POST /registrations/{id}/cancel/',
    call: async () => ({ url: `/registrations/${(await userRegistration()).id}/cancel/` }),
    expect: holderOrganizerStaff(200),
  },
  {
    route: 'GET /events/{id}/registrations/',
    call: () => ({ url: `/events/${event.id}/registrations/` }),
    expect: ownerOrStaff(200),
  },
  {
    route: 'GET /tickets/{code}/',
    call: async () => ({ url: `/tickets/${(await userRegistration()).ticket_instances[0]!.code}/` }),
    expect: holderOrganizerStaff(200),
  },
  {
    route: 'POST /tickets/check-in/',
    call: async () => ({ url: '/tickets/check-in/', payload: { code: (await userRegistration()).ticket_instances[0]!.code } }),
    expect: { anonymous: 401, user: 403, organizer: 200, otherOrganizer: 404, staff: 200 },
  },

  // Account mails: anyone may ask (the answer never says whether the account exists); the token is the credential.
  {
    route: 'POST /auth/password/reset/',
    call: () => ({ url: '/auth/password/reset/', payload: { email: 'someone@example.com' } }),
    expect: everyone(202),
  },
  {
    route: 'POST /auth/password/reset/confirm/',
    call: () => ({ url: '/auth/password/reset/confirm/', payload: { token: 'forged', new_password: 'Sturdy-Passphrase-91' } }),
    expect: everyone(400),
  },
  { route: 'POST /auth/email/verify/', call: () => ({ url: '/auth/email/verify/', payload: { token: 'forged' } }), expect: everyone(400) },
  { route: 'POST /auth/email/verify/resend/', call: () => ({ url: '/auth/email/verify/resend/' }), expect: signedIn(202) },
  { route: 'GET /notifications/preferences/', call: () => ({ url: '/notifications/preferences/' }), expect: signedIn(200) },
  { route: 'PUT /notifications/preferences/', call: () => ({ url: '/notifications/preferences/', payload: {} }), expect: signedIn(200) },
  {
    // The signed token in the URL names the user; no login is involved (mail providers POST it, RFC 8058).
    route: 'GET /notifications/unsubscribe/',
    call: () => ({
      url: `/notifications/unsubscribe/?token=${unsubscribeToken(ctx.app.linkSigner, people.user.id, 'reminders')}`,
      anonymous: true,
    }),
    expect: everyone(200),
  },
  {
    route: 'POST /notifications/unsubscribe/',
    call: () => ({
      url: `/notifications/unsubscribe/?token=${unsubscribeToken(ctx.app.linkSigner, people.user.id, 'reminders')}`,
      anonymous: true,
    }),
    expect: everyone(200),
  },

  // Webhooks: organizers and staff only; another organizer's endpoint does not exist for them.
  { route: 'GET /webhooks/', call: () => ({ url: '/webhooks/' }), expect: organizersAndStaff(200) },
  {
    route: 'POST /webhooks/',
    call: () => ({ url: '/webhooks/', payload: { url: 'https://93.184.215.14/hooks', event_types: ['registration.created'] } }),
    expect: organizersAndStaff(201),
  },
  {
    route: 'GET /webhooks/{id}/',
    call: async () => ({ url: `/webhooks/${(await organizerWebhook()).endpoint.id}/` }),
    expect: organizerStaffNotOthers(200),
  },
  {
    route: 'PATCH /webhooks/{id}/',
    call: async () => ({ url: `/webhooks/${(await organizerWebhook()).endpoint.id}/`, payload: { is_active: false } }),
    expect: organizerStaffNotOthers(200),
  },
  {
    route: 'DELETE /webhooks/{id}/',
    call: async () => ({ url: `/webhooks/${(await organizerWebhook()).endpoint.id}/` }),
    expect: organizerStaffNotOthers(204),
  },
  {
    route: 'POST /webhooks/{id}/rotate-secret/',
    call: async () => ({ url: `/webhooks/${(await organizerWebhook()).endpoint.id}/rotate-secret/` }),
    expect: organizerStaffNotOthers(200),
  },
  {
    route: 'POST /webhooks/{id}/ping/',
    call: async () => ({ url: `/webhooks/${(await organizerWebhook()).endpoint.id}/ping/` }),
    expect: organizerStaffNotOthers(202),
  },
  {
    route: 'GET /webhooks/{id}/deliveries/',
    call: async () => ({ url: `/webhooks/${(await organizerWebhook()).endpoint.id}/deliveries/` }),
    expect: organizerStaffNotOthers(200),
  },
  {
    route: 'POST /webhooks/{id}/deliveries/{delivery_id}/redeliver/',
    call: async () => {
      const { endpoint, delivery } = await organizerWebhook();
      return { url: `/webhooks/${endpoint.id}/deliveries/${delivery.id}/redeliver/` };
    },
    expect: organizerStaffNotOthers(202),
  },

  { route: 'POST /notifications/stream-ticket/', call: () => ({ url: '/notifications/stream-ticket/' }), expect: signedIn(201) },
  {
    // An open stream never ends, so only refusals are checked here: a forged ticket, whoever presents it
    // (test/notifications tests cover a granted stream).
    route: 'GET /notifications/stream/',
    call: () => ({ url: '/notifications/stream/?ticket=forged-ticket', anonymous: true }),
    expect: everyone(401),
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
        headers: actor === 'anonymous' || call.anonymous ? {} : people[actor].auth,
        ...(call.payload ? { payload: call.payload } : {}),
      });
      got[actor] = res.statusCode;
    }
    expect(got).toEqual(row.expect);
  });
});
