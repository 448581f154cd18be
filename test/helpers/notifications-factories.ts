import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../src/db/client.js';
import { events, notifications, registrations, type RegistrationStatus } from '../../src/db/schema.js';

export type EventRow = typeof events.$inferSelect;
export type RegistrationRow = typeof registrations.$inferSelect;

const HOUR = 3_600_000;

/**
 * Inserts an event directly (the events module has its own tests). Starts a week after the test clock's now
 * unless `dateTime` is given.
 */
export async function insertEvent(
  app: FastifyInstance,
  organizerId: string,
  overrides: Partial<typeof events.$inferInsert> = {},
): Promise<EventRow> {
  const now = app.clock.now();
  const [row] = await app.db
    .insert(events)
    .values({
      title: `Event ${randomBytes(3).toString('hex')}`,
      location: 'Lagos, Nigeria',
      dateTime: new Date(now.getTime() + 7 * 24 * HOUR),
      capacity: 100,
      organizerId,
      createdAt: now,
      updatedAt: now,
      ...overrides,
    })
    .returning();
  return row!;
}

/** Inserts a registration row (no seat accounting: the registrations module owns that). */
export async function insertRegistration(
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

export async function eventRow(db: Db, id: string): Promise<EventRow> {
  const [row] = await db.select().from(events).where(eq(events.id, id));
  return row!;
}

export async function notificationsOf(db: Db, userId: string) {
  return db.select().from(notifications).where(eq(notifications.userId, userId));
}

export async function setEventTime(db: Db, id: string, dateTime: Date, endTime: Date | null = null) {
  await db.update(events).set({ dateTime, endTime }).where(eq(events.id, id));
}
