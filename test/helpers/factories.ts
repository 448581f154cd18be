import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import type { Db } from '../../src/db/client.js';
import { events, feedbacks, notifications, registrations, tickets, users, type RegistrationStatus } from '../../src/db/schema.js';
import type { Clock, ManualClock } from '../../src/lib/clock.js';
import { hashPassword } from '../../src/lib/passwords.js';
import { insertCategory, type CategoryRow, type NewCategory } from '../../src/modules/categories/categories.repository.js';
import { insertUser, type UserRow } from '../../src/modules/users/users.repository.js';
import { buildTestApp, type TestContext } from './app.js';

/**
 * The one test-factory module: a user, an organizer, an event, a registration in one line each, with the same
 * defaults everywhere. Rows are written straight to the tables (the routes have their own tests).
 */

export type EventRow = typeof events.$inferSelect;
export type NewEvent = typeof events.$inferInsert;
export type RegistrationRow = typeof registrations.$inferSelect;

export const DEFAULT_PASSWORD = 'Correct-Horse-42';
let defaultHash: Promise<string> | undefined;

const unique = () => randomBytes(5).toString('hex');
const WEEK_MS = 7 * 24 * 3600 * 1000;

export interface TestUser extends UserRow {
  /** Authorization header value with a fresh access token. */
  auth: { authorization: string };
}

/** Inserts a user directly (the sign-up route has its own tests) and returns it with a bearer header. */
export async function createUser(
  app: FastifyInstance,
  overrides: { email?: string; username?: string; isOrganizer?: boolean; isStaff?: boolean; isActive?: boolean } = {},
): Promise<TestUser> {
  const id = unique();
  const row = await insertUser(app.db, {
    email: overrides.email ?? `user-${id}@example.com`,
    username: overrides.username ?? `user_${id}`,
    passwordHash: await (defaultHash ??= hashPassword(DEFAULT_PASSWORD)),
    isOrganizer: overrides.isOrganizer ?? false,
    isStaff: overrides.isStaff ?? false,
    isActive: overrides.isActive ?? true,
    dateJoined: app.clock.now(),
  });
  return { ...row, auth: authHeader(app, row.id) };
}

export const createOrganizer = (app: FastifyInstance) => createUser(app, { isOrganizer: true });
export const createStaff = (app: FastifyInstance) => createUser(app, { isStaff: true, isOrganizer: true });

export function authHeader(app: FastifyInstance, userId: string): { authorization: string } {
  return { authorization: `Bearer ${app.tokens.issue('access', userId, app.clock.now()).token}` };
}

/**
 * Inserts `count` users in one statement, for load tests (they never log in, so the hash is a placeholder);
 * use `authHeader(app, id)` for their tokens.
 */
export async function insertManyUsers(app: FastifyInstance, count: number): Promise<{ id: string; username: string }[]> {
  const batch = randomBytes(4).toString('hex');
  return app.db
    .insert(users)
    .values(
      Array.from({ length: count }, (_, i) => ({
        email: `load-${batch}-${i}@example.com`,
        username: `load_${batch}_${i}`,
        passwordHash: 'not-a-real-hash',
        dateJoined: app.clock.now(),
      })),
    )
    .returning({ id: users.id, username: users.username });
}

/** Inserts a category directly (the routes have their own tests). */
export async function createCategory(app: FastifyInstance, overrides: Partial<NewCategory> = {}): Promise<CategoryRow> {
  const id = unique();
  return insertCategory(app.db, { name: `Category ${id}`, slug: `category-${id}`, createdAt: app.clock.now(), ...overrides });
}

/** An app, or just a database and (optionally) the clock whose "now" stamps the rows. */
type Target = { db: Db; clock?: Clock };

/**
 * Inserts an event of `organizer`: active, 50 seats, starting a week after the clock's now (the test clock's for
 * an app, else the real one). Its counters start at zero; pass them to start elsewhere.
 */
export async function createEvent(target: Target, organizer: { id: string }, overrides: Partial<NewEvent> = {}): Promise<EventRow> {
  const now = target.clock?.now() ?? new Date();
  const [row] = await target.db
    .insert(events)
    .values({
      title: `Event ${unique()}`,
      description: 'A test event.',
      location: 'Lagos, Nigeria',
      dateTime: new Date(now.getTime() + WEEK_MS),
      capacity: 50,
      organizerId: organizer.id,
      createdAt: now,
      updatedAt: now,
      ...overrides,
    })
    .returning();
  return row!;
}

export async function readEvent(target: Target, id: string): Promise<EventRow> {
  const [row] = await target.db.select().from(events).where(eq(events.id, id));
  return row!;
}

export async function setEventTime(db: Db, id: string, dateTime: Date, endTime: Date | null = null) {
  await db.update(events).set({ dateTime, endTime }).where(eq(events.id, id));
}

/**
 * A registration as the services leave it: the tickets its status implies and the event's counters moved. Integrity
 * tests build a healthy database with these, then break one row at a time.
 */
export async function insertRegistration(
  db: Db,
  input: { userId: string; eventId: string; quantity: number; status: RegistrationStatus; keepTickets?: boolean },
) {
  const [registration] = await db
    .insert(registrations)
    .values({ userId: input.userId, eventId: input.eventId, quantity: input.quantity, status: input.status })
    .returning();
  const withTickets = input.status === 'registered' || (input.status === 'cancelled' && input.keepTickets);
  if (withTickets) {
    await db.insert(tickets).values(
      Array.from({ length: input.quantity }, (_, i) => ({
        registrationId: registration!.id,
        eventId: input.eventId,
        seat: i + 1,
        code: `EVT-${randomBytes(8).toString('hex').toUpperCase()}-${i + 1}`,
      })),
    );
  }
  if (input.status === 'registered') {
    await db
      .update(events)
      .set({ registeredCount: sql`${events.registeredCount} + ${input.quantity}` })
      .where(eq(events.id, input.eventId));
  }
  if (input.status === 'waitlisted') {
    await db
      .update(events)
      .set({ waitlistCount: sql`${events.waitlistCount} + 1` })
      .where(eq(events.id, input.eventId));
  }
  return registration!;
}

/**
 * Only the registration row, created at the test clock's now: no tickets, no seat accounting. For tests of who is
 * told what (notifications, reminders), where the counters play no part.
 */
export async function insertRegistrationRow(
  app: FastifyInstance,
  userId: string,
  eventId: string,
  status: RegistrationStatus = 'registered',
  quantity = 1,
): Promise<RegistrationRow> {
  const [row] = await app.db
    .insert(registrations)
    .values({ userId, eventId, status, quantity, createdAt: app.clock.now(), cancelledAt: status === 'cancelled' ? app.clock.now() : null })
    .returning();
  return row!;
}

export async function insertFeedback(db: Db, input: { userId: string; eventId: string; rating: number }) {
  await db.insert(feedbacks).values(input);
  await db
    .update(events)
    .set({ ratingSum: sql`${events.ratingSum} + ${input.rating}`, ratingCount: sql`${events.ratingCount} + 1` })
    .where(eq(events.id, input.eventId));
}

export async function notificationsOf(db: Db, userId: string) {
  return db.select().from(notifications).where(eq(notifications.userId, userId));
}

/** POST /registrations/ as `user` (with a token fresh at the app clock's now); returns the raw response. */
export function registerFor(app: FastifyInstance, user: TestUser, eventId: string, quantity = 1, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: '/registrations/',
    headers: { ...authHeader(app, user.id), ...headers },
    payload: { event: eventId, quantity },
  });
}

/**
 * Registers one fresh user per quantity, advancing the clock a second before each, so created_at gives the
 * queue order. Fails on any answer but 201.
 */
export async function registerInTurn(
  app: FastifyInstance,
  clock: ManualClock,
  eventId: string,
  quantities: number[],
): Promise<{ user: TestUser; id: string; status: string; waitlistPosition: number | null }[]> {
  const out: { user: TestUser; id: string; status: string; waitlistPosition: number | null }[] = [];
  for (const quantity of quantities) {
    clock.advance(1000);
    const user = await createUser(app);
    const res = await registerFor(app, user, eventId, quantity);
    if (res.statusCode !== 201) throw new Error(`registration failed: ${res.statusCode} ${res.body}`);
    out.push({ user, id: res.json().id, status: res.json().status, waitlistPosition: res.json().waitlist_position });
  }
  return out;
}

/**
 * The usual start of a test file: the whole API on a fresh database and one organizer, closed after the file.
 * The object is filled in before the first test runs.
 */
export function appWithOrganizer(): TestContext & { organizer: TestUser } {
  const ctx = {} as TestContext & { organizer: TestUser };
  beforeAll(async () => {
    Object.assign(ctx, await buildTestApp());
    ctx.organizer = await createOrganizer(ctx.app);
  });
  afterAll(async () => ctx.close());
  return ctx;
}
