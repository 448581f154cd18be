import type { Db } from '../../db/client.js';
import { canManageEvent } from '../../lib/access.js';
import { orderedId } from '../../lib/ordered-id.js';
import { ValidationError, conflict, forbidden, notFound } from '../../lib/errors.js';
import type { AuthUser } from '../../plugins/auth.js';
import { KEEP_FINISHED_MESSAGES_MS, enqueue, findMessages, requeue, type OutboxRow } from '../outbox/outbox.service.js';
import * as repo from './webhooks.repository.js';
import type { DeliveryRow, EndpointRow } from './webhooks.repository.js';
import { newSecret } from './webhooks.signing.js';
import { TargetRefused, checkTargetAddress, checkTargetUrl, type TargetPolicy } from './webhooks.target.js';

export type { DeliveryRow, EndpointRow };

/** The outbox channel of webhooks. */
export const WEBHOOK_CHANNEL = 'webhook';

export const WEBHOOK_EVENT_TYPES = [
  'registration.created',
  'registration.waitlisted',
  'registration.promoted',
  'registration.cancelled',
  'ticket.checked_in',
  'event.updated',
  'event.cancelled',
  'feedback.created',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
/** Sent by POST /webhooks/<id>/ping/ whatever the endpoint subscribed to. */
export const PING_TYPE = 'webhook.ping';

/** How long the secret replaced by a rotation keeps signing beside the new one. */
export const ROTATION_OVERLAP_MS = 24 * 3600_000;

/** What a queued webhook message carries: its endpoint and the exact body (the same bytes on every attempt). */
export interface WebhookMessage {
  endpointId: string;
  type: string;
  body: string;
}

export interface WebhookItem {
  type: WebhookEventType;
  data: Record<string, unknown>;
}

const body = (type: string, data: Record<string, unknown>, now: Date) => JSON.stringify({ type, timestamp: now.toISOString(), data });

/** Endpoints that listen to one event (see findListeningEndpoints): read once, for queueWebhooksTo. */
export const listeningEndpoints = repo.findListeningEndpoints;

/**
 * Queues one message per item and per endpoint that subscribed to its type, in the caller's transaction: they are
 * delivered if and only if it commits. One endpoint's messages go one at a time, in order (its ordering key).
 */
export async function queueWebhooksTo(
  db: Db,
  endpoints: Array<Pick<EndpointRow, 'id' | 'eventTypes'>>,
  items: WebhookItem[],
  now: Date,
): Promise<void> {
  const messages = endpoints.flatMap((endpoint) =>
    items
      .filter((item) => endpoint.eventTypes.includes(item.type))
      .map((item) => ({
        // Time-ordered, so one endpoint's messages from one transaction keep the order they were queued in.
        id: orderedId(now),
        channel: WEBHOOK_CHANNEL,
        payload: { endpointId: endpoint.id, type: item.type, body: body(item.type, item.data, now) } satisfies WebhookMessage,
        orderingKey: `webhook:${endpoint.id}`,
      })),
  );
  await enqueue(db, messages, now);
}

/** queueWebhooksTo the endpoints listening to `eventId`: call it in the transaction that made the change. */
export async function queueWebhooks(db: Db, eventId: string, items: WebhookItem[], now: Date): Promise<void> {
  if (items.length === 0) return;
  const endpoints = await repo.findListeningEndpoints(db, eventId);
  if (endpoints.length > 0) await queueWebhooksTo(db, endpoints, items, now);
}

// ---- Payloads: every shape a receiver gets, side by side -------------------------------------------------

interface EventRef {
  id: string;
  title: string;
}

export function registrationItem(
  type: 'registration.created' | 'registration.waitlisted' | 'registration.promoted' | 'registration.cancelled',
  event: EventRef,
  registration: { id: string; userId: string; status: string; quantity: number },
  ticketCodes: string[],
): WebhookItem {
  return {
    type,
    data: {
      event_id: event.id,
      event_title: event.title,
      registration_id: registration.id,
      user_id: registration.userId,
      status: registration.status,
      quantity: registration.quantity,
      ticket_codes: ticketCodes,
    },
  };
}

export function checkedInItem(
  event: EventRef,
  ticket: { code: string; seat: number; usedAt: Date | null },
  registration: { id: string; userId: string },
): WebhookItem {
  return {
    type: 'ticket.checked_in',
    data: {
      event_id: event.id,
      event_title: event.title,
      registration_id: registration.id,
      user_id: registration.userId,
      ticket_code: ticket.code,
      seat: ticket.seat,
      checked_in_at: ticket.usedAt?.toISOString() ?? null,
    },
  };
}

export function eventUpdatedItem(
  event: EventRef & { dateTime: Date; endTime: Date | null; location: string; capacity: number; isActive: boolean },
): WebhookItem {
  return {
    type: 'event.updated',
    data: {
      event_id: event.id,
      event_title: event.title,
      date_time: event.dateTime.toISOString(),
      end_time: event.endTime?.toISOString() ?? null,
      location: event.location,
      capacity: event.capacity,
      is_active: event.isActive,
    },
  };
}

export function eventCancelledItem(event: EventRef, cancelledRegistrations: number): WebhookItem {
  return {
    type: 'event.cancelled',
    data: { event_id: event.id, event_title: event.title, cancelled_registrations: cancelledRegistrations },
  };
}

export function feedbackItem(event: EventRef, feedback: { id: string; userId: string; rating: number; comment: string }): WebhookItem {
  return {
    type: 'feedback.created',
    data: {
      event_id: event.id,
      event_title: event.title,
      feedback_id: feedback.id,
      user_id: feedback.userId,
      rating: feedback.rating,
      comment: feedback.comment,
    },
  };
}

// ---- Endpoints ------------------------------------------------------------------------------------------

const canManage = (actor: AuthUser, endpoint: EndpointRow) => actor.isStaff || endpoint.ownerId === actor.id;

function assertMayUseWebhooks(actor: AuthUser): void {
  if (!actor.isOrganizer && !actor.isStaff) throw forbidden('Only organizers and staff can manage webhooks.');
}

/** The endpoint, if the actor may manage it; anybody else is told it does not exist. */
async function ownEndpoint(db: Db, actor: AuthUser, id: string): Promise<EndpointRow> {
  assertMayUseWebhooks(actor);
  const endpoint = await repo.findEndpoint(db, id);
  if (!endpoint || !canManage(actor, endpoint)) throw notFound();
  return endpoint;
}

async function checkUrl(raw: string, policy: TargetPolicy): Promise<string> {
  try {
    const url = checkTargetUrl(raw, policy);
    await checkTargetAddress(url, policy);
    return url.toString();
  } catch (err) {
    if (err instanceof TargetRefused) throw ValidationError.field('url', err.message);
    throw err;
  }
}

async function checkEvent(db: Db, actor: AuthUser, eventId: string): Promise<void> {
  const event = await repo.findEventForEndpoint(db, eventId);
  if (!event || !canManageEvent(actor, event)) {
    throw ValidationError.field('event', `Invalid pk "${eventId}" - object does not exist.`);
  }
}

export interface EndpointInput {
  url: string;
  event_types: WebhookEventType[];
  event?: string | null;
  is_active?: boolean;
}

export async function createEndpoint(db: Db, actor: AuthUser, input: EndpointInput, policy: TargetPolicy, now: Date) {
  assertMayUseWebhooks(actor);
  const url = await checkUrl(input.url, policy);
  if (input.event) await checkEvent(db, actor, input.event);
  return repo.insertEndpoint(db, {
    ownerId: actor.id,
    url,
    eventTypes: [...new Set(input.event_types)],
    eventId: input.event ?? null,
    isActive: input.is_active ?? true,
    secret: newSecret(),
    createdAt: now,
    updatedAt: now,
  });
}

export const getEndpoint = ownEndpoint;

export async function listEndpoints(db: Db, actor: AuthUser, limit: number, offset: number) {
  assertMayUseWebhooks(actor);
  return repo.listEndpoints(db, actor.isStaff ? undefined : actor.id, limit, offset);
}

/** Turning an endpoint on again clears why it was turned off and its run of failures. */
export async function updateEndpoint(
  db: Db,
  actor: AuthUser,
  id: string,
  changes: Partial<EndpointInput>,
  policy: TargetPolicy,
  now: Date,
) {
  await ownEndpoint(db, actor, id);
  const url = changes.url !== undefined ? await checkUrl(changes.url, policy) : undefined;
  if (changes.event) await checkEvent(db, actor, changes.event);
  const reactivated = changes.is_active === true ? { disabledReason: null, consecutiveFailures: 0 } : {};
  const row = await repo.updateEndpoint(db, id, {
    url,
    eventTypes: changes.event_types ? [...new Set(changes.event_types)] : undefined,
    eventId: changes.event,
    isActive: changes.is_active,
    ...reactivated,
    updatedAt: now,
  });
  if (!row) throw notFound();
  return row;
}

export async function deleteEndpoint(db: Db, actor: AuthUser, id: string): Promise<void> {
  await ownEndpoint(db, actor, id);
  await repo.deleteEndpoint(db, id);
}

/** A new secret; the old one keeps signing beside it for ROTATION_OVERLAP_MS, so receivers can switch without a gap. */
export async function rotateSecret(db: Db, actor: AuthUser, id: string, now: Date): Promise<EndpointRow> {
  await ownEndpoint(db, actor, id);
  return db.transaction(async (tx) => {
    const current = (await repo.lockEndpoint(tx, id))!;
    return (await repo.updateEndpoint(tx, id, {
      secret: newSecret(),
      previousSecret: current.secret,
      previousSecretExpiresAt: new Date(now.getTime() + ROTATION_OVERLAP_MS),
      updatedAt: now,
    }))!;
  });
}

/** The secrets that sign a delivery at `now`: the current one, and the previous one during the overlap. */
export function signingSecrets(endpoint: EndpointRow, now: Date): string[] {
  const previousValid = endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now;
  return previousValid ? [endpoint.secret, endpoint.previousSecret!] : [endpoint.secret];
}

/** Queues a test delivery (type webhook.ping), outside the endpoint's order so a failing one does not hold it. */
export async function ping(db: Db, actor: AuthUser, id: string, now: Date): Promise<OutboxRow> {
  const endpoint = await ownEndpoint(db, actor, id);
  const [row] = await enqueue(
    db,
    [
      {
        channel: WEBHOOK_CHANNEL,
        payload: { endpointId: endpoint.id, type: PING_TYPE, body: body(PING_TYPE, { endpoint_id: endpoint.id }, now) },
      },
    ],
    now,
  );
  return row!;
}

export interface DeliveryView extends DeliveryRow {
  /** When the message is tried again (on the latest attempt of a message still waiting); else null. */
  nextRetryAt: Date | null;
}

export async function listDeliveries(db: Db, actor: AuthUser, id: string, limit: number, offset: number) {
  await ownEndpoint(db, actor, id);
  const { rows, total } = await repo.listDeliveries(db, id, limit, offset);
  const pending = new Map(
    (await findMessages(db, [...new Set(rows.map((r) => r.messageId))]))
      .filter((m) => m.status === 'pending')
      .map((m) => [m.id, m.nextAttemptAt]),
  );
  const seen = new Set<string>();
  const views: DeliveryView[] = rows.map((row) => {
    const latest = !seen.has(row.messageId);
    seen.add(row.messageId);
    return { ...row, nextRetryAt: latest ? (pending.get(row.messageId) ?? null) : null };
  });
  return { rows: views, total };
}

/** Sends a delivered, failed or given-up message again (same webhook-id, same body), due at once. */
export async function redeliver(db: Db, actor: AuthUser, id: string, deliveryId: string, now: Date): Promise<OutboxRow> {
  await ownEndpoint(db, actor, id);
  const delivery = await repo.findDelivery(db, id, deliveryId);
  if (!delivery) throw notFound();
  const row = await requeue(db, delivery.messageId, now);
  if (row) return row;
  const [message] = await findMessages(db, [delivery.messageId]);
  if (message) throw conflict('This message is still waiting to be delivered.', 'delivery_pending');
  throw conflict('This message is too old to be sent again.', 'delivery_expired');
}

/** Attempts are listed as long as their messages are kept (then a redelivery could not find the message anyway). */
export async function purgeOldDeliveries(db: Db, now: Date): Promise<number> {
  return repo.deleteDeliveriesBefore(db, new Date(now.getTime() - KEEP_FINISHED_MESSAGES_MS));
}
