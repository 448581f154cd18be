import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { events, users } from '../../src/db/schema.js';
import type { ManualClock } from '../../src/lib/clock.js';
import { authHeader, createUser, type TestUser } from './factories.js';

export type EventRow = typeof events.$inferSelect;

export async function readEvent(app: FastifyInstance, id: string): Promise<EventRow> {
  const [row] = await app.db.select().from(events).where(eq(events.id, id));
  return row!;
}

/** POST /registrations/ as `user` (with a token fresh at the app clock's now); returns the raw response. */
export function registerFor(
  app: FastifyInstance,
  user: TestUser,
  eventId: string,
  quantity = 1,
  headers: Record<string, string> = {},
) {
  return app.inject({
    method: 'POST',
    url: '/registrations/',
    headers: { ...authHeader(app, user.id), ...headers },
    payload: { event: eventId, quantity },
  });
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
