import { and, count, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { events, webhookDeliveries, webhookEndpoints } from '../../db/schema.js';

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type NewEndpointRow = typeof webhookEndpoints.$inferInsert;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export type NewDeliveryRow = typeof webhookDeliveries.$inferInsert;

export async function insertEndpoint(db: Db, values: NewEndpointRow): Promise<EndpointRow> {
  const [row] = await db.insert(webhookEndpoints).values(values).returning();
  return row!;
}

export async function findEndpoint(db: Db, id: string): Promise<EndpointRow | undefined> {
  const [row] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).limit(1);
  return row;
}

export async function lockEndpoint(db: Db, id: string): Promise<EndpointRow | undefined> {
  const [row] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).for('update');
  return row;
}

/** A page of endpoints, newest first: the owner's, or everyone's (ownerId undefined, for staff). */
export async function listEndpoints(db: Db, ownerId: string | undefined, limit: number, offset: number) {
  const where = ownerId === undefined ? undefined : eq(webhookEndpoints.ownerId, ownerId);
  const [rows, [total]] = await Promise.all([
    db
      .select()
      .from(webhookEndpoints)
      .where(where)
      .orderBy(desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id))
      .limit(limit)
      .offset(offset),
    db.select({ n: count() }).from(webhookEndpoints).where(where),
  ]);
  return { rows, total: total!.n };
}

export async function updateEndpoint(db: Db, id: string, values: Partial<NewEndpointRow>): Promise<EndpointRow | undefined> {
  const [row] = await db.update(webhookEndpoints).set(values).where(eq(webhookEndpoints.id, id)).returning();
  return row;
}

export async function deleteEndpoint(db: Db, id: string): Promise<boolean> {
  const rows = await db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id)).returning({ id: webhookEndpoints.id });
  return rows.length > 0;
}

/**
 * The active endpoints that hear about an event: those for that one event, and those for all events of its
 * organizer. One indexed read; the caller filters by event type.
 */
export async function findListeningEndpoints(db: Db, eventId: string): Promise<Array<Pick<EndpointRow, 'id' | 'eventTypes'>>> {
  return db
    .select({ id: webhookEndpoints.id, eventTypes: webhookEndpoints.eventTypes })
    .from(webhookEndpoints)
    .innerJoin(events, eq(events.id, eventId))
    .where(
      and(
        eq(webhookEndpoints.isActive, true),
        or(eq(webhookEndpoints.eventId, eventId), and(isNull(webhookEndpoints.eventId), eq(webhookEndpoints.ownerId, events.organizerId))),
      ),
    );
}

export async function findEventForEndpoint(db: Db, eventId: string) {
  const [row] = await db.select({ id: events.id, organizerId: events.organizerId }).from(events).where(eq(events.id, eventId)).limit(1);
  return row;
}

export async function insertDelivery(db: Db, values: NewDeliveryRow): Promise<DeliveryRow> {
  const [row] = await db.insert(webhookDeliveries).values(values).returning();
  return row!;
}

export async function findDelivery(db: Db, endpointId: string, id: string): Promise<DeliveryRow | undefined> {
  const [row] = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.endpointId, endpointId)))
    .limit(1);
  return row;
}

/** A page of an endpoint's attempts, newest first. */
export async function listDeliveries(db: Db, endpointId: string, limit: number, offset: number) {
  const where = eq(webhookDeliveries.endpointId, endpointId);
  const [rows, [total]] = await Promise.all([
    db
      .select()
      .from(webhookDeliveries)
      .where(where)
      .orderBy(desc(webhookDeliveries.attemptedAt), desc(webhookDeliveries.id))
      .limit(limit)
      .offset(offset),
    db.select({ n: count() }).from(webhookDeliveries).where(where),
  ]);
  return { rows, total: total!.n };
}

/** Counts an attempt's outcome against the endpoint: a success resets the run of failures. Returns the new run. */
export async function recordOutcome(db: Db, id: string, succeeded: boolean, now: Date): Promise<number | undefined> {
  const [row] = await db
    .update(webhookEndpoints)
    .set({ consecutiveFailures: succeeded ? 0 : sql`${webhookEndpoints.consecutiveFailures} + 1`, updatedAt: now })
    .where(eq(webhookEndpoints.id, id))
    .returning({ failures: webhookEndpoints.consecutiveFailures });
  return row?.failures;
}

/** Turns an active endpoint off; false if it was already off (another worker did it). */
export async function disableEndpoint(db: Db, id: string, reason: string, now: Date): Promise<EndpointRow | undefined> {
  const [row] = await db
    .update(webhookEndpoints)
    .set({ isActive: false, disabledReason: reason, updatedAt: now })
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.isActive, true)))
    .returning();
  return row;
}

export async function deleteDeliveriesBefore(db: Db, cutoff: Date): Promise<number> {
  const rows = await db.delete(webhookDeliveries).where(lt(webhookDeliveries.attemptedAt, cutoff)).returning({ id: webhookDeliveries.id });
  return rows.length;
}
