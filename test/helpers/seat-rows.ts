import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';
import { events, feedbacks, registrations, tickets, type RegistrationStatus } from '../../src/db/schema.js';

/**
 * Rows written straight to the tables, consistent the way the services keep them. Integrity tests build a
 * healthy database with these, then break one row at a time; they do not depend on the registration routes.
 */
export async function insertEvent(db: Db, organizerId: string, values: { capacity?: number; dateTime?: Date } = {}) {
  const [row] = await db
    .insert(events)
    .values({
      title: `Event ${randomBytes(3).toString('hex')}`,
      location: 'Hall',
      dateTime: values.dateTime ?? new Date('2031-01-01T18:00:00Z'),
      capacity: values.capacity ?? 10,
      organizerId,
    })
    .returning();
  return row!;
}

/** A registration with the tickets its status implies, and the event's counters moved accordingly. */
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
    await db.update(events).set({ waitlistCount: sql`${events.waitlistCount} + 1` }).where(eq(events.id, input.eventId));
  }
  return registration!;
}

export async function insertFeedback(db: Db, input: { userId: string; eventId: string; rating: number }) {
  await db.insert(feedbacks).values(input);
  await db
    .update(events)
    .set({ ratingSum: sql`${events.ratingSum} + ${input.rating}`, ratingCount: sql`${events.ratingCount} + 1` })
    .where(eq(events.id, input.eventId));
}
