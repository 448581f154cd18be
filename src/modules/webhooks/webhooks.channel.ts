import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import { orderedId } from '../../lib/ordered-id.js';
import { notify } from '../notifications/notifications.service.js';
import { releaseOrdering, type DeliveryResult, type OutboxChannel, type OutboxRow } from '../outbox/outbox.service.js';
import { postWebhook, type PostResult } from './webhooks.http.js';
import * as repo from './webhooks.repository.js';
import { PING_TYPE, WEBHOOK_CHANNEL, signingSecrets, type WebhookMessage } from './webhooks.service.js';
import { signatureHeader } from './webhooks.signing.js';

/** The start of an answer kept with each attempt. */
export const RESPONSE_BODY_LIMIT = 1024;
/** A run of this many failed attempts in a row turns the endpoint off, and its owner is told. */
export const MAX_CONSECUTIVE_FAILURES = 50;

/**
 * Retries for about three days: 1 min, 2, 4 … doubling up to 12 h between attempts, each delay with equal jitter
 * (see retryDelayMs). 18 attempts span about 50 to 100 hours, about 75 on average.
 */
export const WEBHOOK_RETRY = { baseMs: 60_000, maxMs: 12 * 3600_000, maxAttempts: 18 };

/**
 * The webhook channel of the outbox: POSTs the queued body to its endpoint, signed per Standard Webhooks, and
 * records the attempt. 2xx is delivered; 410 turns the endpoint off at once; anything else (other answers,
 * timeouts, refused connections) is retried with back-off, and a failed message stops holding back the
 * endpoint's later ones (they keep their order only while it answers). A refused (internal) address is final.
 */
export function webhookChannel(options: {
  config: Pick<Config, 'webhookAllowHttp' | 'webhookAllowPrivate' | 'webhookTimeoutMs'>;
  log?: FastifyBaseLogger;
}): OutboxChannel {
  const policy = { allowHttp: options.config.webhookAllowHttp, allowPrivate: options.config.webhookAllowPrivate };

  async function disable(db: Db, endpoint: repo.EndpointRow, reason: 'gone' | 'failing', now: Date): Promise<void> {
    await db.transaction(async (tx) => {
      const disabled = await repo.disableEndpoint(tx, endpoint.id, reason, now);
      if (!disabled) return;
      const why = reason === 'gone' ? 'it answered 410 Gone' : `its last ${MAX_CONSECUTIVE_FAILURES} deliveries failed`;
      await notify(
        tx,
        {
          userId: endpoint.ownerId,
          eventId: null,
          kind: 'webhook_disabled',
          message: `Your webhook to ${endpoint.url} was turned off: ${why}. Turn it on again once it answers.`,
        },
        now,
      );
    });
    options.log?.warn({ endpoint: endpoint.id, reason }, 'webhook endpoint disabled');
  }

  return {
    name: WEBHOOK_CHANNEL,
    retry: WEBHOOK_RETRY,
    async deliver(row: OutboxRow, { db, now }): Promise<DeliveryResult> {
      const message = row.payload as unknown as WebhookMessage;
      const endpoint = await repo.findEndpoint(db, message.endpointId);
      if (!endpoint) return { status: 'dropped', reason: 'the endpoint was deleted' };
      if (!endpoint.isActive && message.type !== PING_TYPE) return { status: 'dropped', reason: 'the endpoint is turned off' };
      const timestamp = Math.floor(now.getTime() / 1000);
      const headers = {
        'webhook-id': row.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signatureHeader(signingSecrets(endpoint, now), row.id, timestamp, message.body),
      };
      const result: PostResult = await postWebhook(new URL(endpoint.url), headers, message.body, {
        timeoutMs: options.config.webhookTimeoutMs,
        maxBodyBytes: RESPONSE_BODY_LIMIT,
        policy,
      });
      const succeeded = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
      await repo.insertDelivery(db, {
        // Time-ordered: the attempts of one pass share `now`, and are listed in the order they were made.
        id: orderedId(now),
        endpointId: endpoint.id,
        messageId: row.id,
        eventType: message.type,
        attemptedAt: now,
        succeeded,
        statusCode: result.statusCode,
        durationMs: result.durationMs,
        responseBody: result.body,
        error: result.error,
      });
      if (message.type === PING_TYPE) {
        // A test delivery says whether the endpoint answers; it does not count towards turning it off.
        return succeeded ? { status: 'sent' } : { status: 'failed', error: describe(result) };
      }
      const failures = await repo.recordOutcome(db, endpoint.id, succeeded, now);
      if (succeeded) return { status: 'sent' };
      if (result.statusCode === 410) {
        await disable(db, endpoint, 'gone', now);
        return { status: 'failed', error: describe(result) };
      }
      if ((failures ?? 0) >= MAX_CONSECUTIVE_FAILURES) await disable(db, endpoint, 'failing', now);
      await releaseOrdering(db, row.id);
      if (result.refused) return { status: 'failed', error: describe(result) };
      return { status: 'retry', error: describe(result) };
    },
  };
}

function describe(result: PostResult): string {
  return result.statusCode !== null ? `HTTP ${result.statusCode}: ${result.body ?? ''}` : (result.error ?? 'no answer');
}
