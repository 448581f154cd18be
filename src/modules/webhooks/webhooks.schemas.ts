import { Type, type Static } from 'typebox';
import { DateTime, Uuid } from '../../lib/schemas.js';
import type { DeliveryView, EndpointRow } from './webhooks.service.js';
import { WEBHOOK_EVENT_TYPES } from './webhooks.service.js';

const EventType = Type.Union(
  WEBHOOK_EVENT_TYPES.map((type) => Type.Literal(type)),
  { description: 'What happened.' },
);
const EventTypes = Type.Array(EventType, {
  minItems: 1,
  maxItems: WEBHOOK_EVENT_TYPES.length * 2,
  description: 'The event types sent to this endpoint.',
});
const Url = Type.String({
  minLength: 1,
  maxLength: 2000,
  description: 'Where deliveries are POSTed: https:// (http:// only when WEBHOOK_ALLOW_HTTP=true); it must resolve to a public address.',
});
const EventRef = Type.Union([Uuid('Only this event (one of yours); null for every event you organize.'), Type.Null()]);

export const WebhookCreate = Type.Object(
  {
    url: Url,
    event_types: EventTypes,
    event: Type.Optional(EventRef),
    is_active: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);
export type WebhookCreate = Static<typeof WebhookCreate>;

export const WebhookUpdate = Type.Object(
  {
    url: Type.Optional(Url),
    event_types: Type.Optional(EventTypes),
    event: Type.Optional(EventRef),
    is_active: Type.Optional(
      Type.Boolean({ description: 'Turning an endpoint on again also clears disabled_reason and its failure count.' }),
    ),
  },
  { additionalProperties: false },
);

export const Webhook = Type.Object({
  id: Uuid(),
  url: Type.String(),
  event_types: Type.Array(Type.String()),
  event: Type.Union([Uuid(), Type.Null()]),
  is_active: Type.Boolean(),
  disabled_reason: Type.Union([Type.Literal('gone'), Type.Literal('failing'), Type.Null()], {
    description: 'Why the server turned the endpoint off: `gone` (it answered 410) or `failing` (50 failed deliveries in a row).',
  }),
  consecutive_failures: Type.Integer(),
  previous_secret_expires_at: Type.Union([DateTime('Until then the replaced secret signs beside the new one.'), Type.Null()]),
  owner: Uuid(),
  created_at: DateTime(),
  updated_at: DateTime(),
});

export const WebhookWithSecret = Type.Object({
  ...Webhook.properties,
  secret: Type.String({ description: 'The signing secret (`whsec_…`, Standard Webhooks). Shown only here: keep it.' }),
});

export const WebhookDelivery = Type.Object({
  id: Uuid(),
  message_id: Uuid('The `webhook-id` header: the same on every attempt of one message.'),
  event_type: Type.String(),
  attempted_at: DateTime(),
  succeeded: Type.Boolean(),
  status_code: Type.Union([Type.Integer(), Type.Null()], { description: 'Null when no answer came.' }),
  duration_ms: Type.Integer(),
  response_body: Type.Union([Type.String(), Type.Null()], { description: 'The first 1 KB of the answer.' }),
  error: Type.Union([Type.String(), Type.Null()]),
  next_retry_at: Type.Union([DateTime(), Type.Null()], { description: 'When the message is tried again, if it is still waiting.' }),
});

export const QueuedMessage = Type.Object({
  message_id: Uuid('The `webhook-id` of the queued delivery.'),
});

export const DeliveryParams = Type.Object({ id: Uuid(), delivery_id: Uuid() });

export function toWebhookResponse(row: EndpointRow) {
  return {
    id: row.id,
    url: row.url,
    event_types: row.eventTypes,
    event: row.eventId,
    is_active: row.isActive,
    disabled_reason: (row.disabledReason ?? null) as 'gone' | 'failing' | null,
    consecutive_failures: row.consecutiveFailures,
    previous_secret_expires_at: row.previousSecretExpiresAt?.toISOString() ?? null,
    owner: row.ownerId,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function toDeliveryResponse(row: DeliveryView) {
  return {
    id: row.id,
    message_id: row.messageId,
    event_type: row.eventType,
    attempted_at: row.attemptedAt.toISOString(),
    succeeded: row.succeeded,
    status_code: row.statusCode,
    duration_ms: row.durationMs,
    response_body: row.responseBody,
    error: row.error,
    next_retry_at: row.nextRetryAt?.toISOString() ?? null,
  };
}
