import { and, asc, count, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { events, mailPreferences, registrations, tickets, users } from '../../db/schema.js';

/**
 * What mails are made of, read when a mail is sent (not when it is queued): the recipient's current address, the
 * event as it is now, the tickets of the order. Read-only queries over other modules' tables, kept here so the
 * mail channel needs no other module's internals.
 */

export type MailPreferencesRow = typeof mailPreferences.$inferSelect;
export type EventRow = typeof events.$inferSelect;

export async function findRecipient(db: Db, userId: string) {
  const [row] = await db
    .select({
      id: users.id,
      email: users.email,
      username: users.username,
      isActive: users.isActive,
      emailVerifiedAt: users.emailVerifiedAt,
    })
    .from(users)
    .where(eq(users.id, userId));
  return row;
}

export async function findEvent(db: Db, eventId: string): Promise<EventRow | undefined> {
  const [row] = await db.select().from(events).where(eq(events.id, eventId));
  return row;
}

/** The user's latest registration for the event (at most one is live), with its tickets by seat. */
export async function findLatestRegistration(db: Db, userId: string, eventId: string) {
  const [registration] = await db
    .select()
    .from(registrations)
    .where(and(eq(registrations.userId, userId), eq(registrations.eventId, eventId)))
    .orderBy(desc(registrations.createdAt), desc(registrations.id))
    .limit(1);
  if (!registration) return undefined;
  const held = await db
    .select({ code: tickets.code, seat: tickets.seat })
    .from(tickets)
    .where(eq(tickets.registrationId, registration.id))
    .orderBy(asc(tickets.seat));
  return { ...registration, tickets: held };
}

/** 1-based place of a waitlisted order in its event's queue (created_at, then id, as promotion serves it). */
export async function waitlistPosition(db: Db, registration: { id: string; eventId: string; createdAt: Date }): Promise<number> {
  const [row] = await db
    .select({ ahead: count() })
    .from(registrations)
    .where(
      and(
        eq(registrations.eventId, registration.eventId),
        eq(registrations.status, 'waitlisted'),
        sql`(${registrations.createdAt}, ${registrations.id}) < (${registration.createdAt.toISOString()}::timestamptz, ${registration.id}::uuid)`,
      ),
    );
  return row!.ahead + 1;
}

export async function findPreferences(db: Db, userId: string): Promise<MailPreferencesRow | undefined> {
  const [row] = await db.select().from(mailPreferences).where(eq(mailPreferences.userId, userId));
  return row;
}

export async function upsertPreferences(
  db: Db,
  userId: string,
  values: Partial<Pick<MailPreferencesRow, 'reminders' | 'feedbackRequests' | 'eventChanges'>>,
  now: Date,
): Promise<MailPreferencesRow> {
  const [row] = await db
    .insert(mailPreferences)
    .values({ userId, ...values, updatedAt: now })
    .onConflictDoUpdate({ target: mailPreferences.userId, set: { ...values, updatedAt: now } })
    .returning();
  return row!;
}
