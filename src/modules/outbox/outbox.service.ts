import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/client.js';
import * as repo from './outbox.repository.js';
import type { OutboxRow } from './outbox.repository.js';
import { retryDelayMs, type RetryPolicy } from './retry-policy.js';

export type { OutboxRow, RetryPolicy };

/**
 * What a channel made of one delivery attempt:
 * - `sent`: done;
 * - `retry`: a temporary failure (connection refused, 4xx from SMTP, 5xx from a webhook receiver): tried again
 *   after the channel's back-off, and recorded as failed once its attempts are used up;
 * - `failed`: a permanent failure (SMTP 5xx): recorded with the server's answer, never tried again;
 * - `dropped`: nothing to deliver any more (the recipient opted out, the registration is gone): recorded why.
 */
export type DeliveryResult =
  { status: 'sent' } | { status: 'retry'; error: string } | { status: 'failed'; error: string } | { status: 'dropped'; reason: string };

/**
 * One kind of side effect (email; webhooks plug in the same way). `deliver` runs outside any transaction, at
 * least once per message: after a crash between delivering and recording, the message is delivered again, so it
 * should carry a stable identity (a mail's Message-ID is derived from the outbox id) that lets the receiver
 * recognise the repeat. It must finish well within LEASE_MS (give network calls a shorter timeout).
 */
export interface OutboxChannel {
  name: string;
  retry: RetryPolicy;
  deliver(message: OutboxRow, context: { db: Db; now: Date }): Promise<DeliveryResult>;
}

export interface QueuedMessage {
  /** Default: a random uuid. Messages of one ordering key queued at one time go in the order of their ids. */
  id?: string;
  channel: string;
  payload: Record<string, unknown>;
  /** A message with a key already queued (or sent) is skipped. */
  dedupeKey?: string;
  /** Messages with the same key are delivered one at a time, in the order they were queued. */
  orderingKey?: string;
  /** Not before this time (default: now). */
  notBefore?: Date;
}

/**
 * For a statement that writes messages together with their cause (db/one-statement.ts): a CTE queueing the rows
 * (channel, payload, due) that `select` yields.
 */
export const queueSelectedCte = repo.queueSelectedCte;

/** Queues messages in the caller's transaction, so they exist exactly when the change that caused them does. */
export async function enqueue(db: Db, messages: QueuedMessage[], now: Date): Promise<OutboxRow[]> {
  if (messages.length === 0) return [];
  return repo.insertMessages(
    db,
    messages.map((m) => ({
      ...(m.id ? { id: m.id } : {}),
      channel: m.channel,
      payload: m.payload,
      dedupeKey: m.dedupeKey ?? null,
      orderingKey: m.orderingKey ?? null,
      nextAttemptAt: m.notBefore ?? now,
      createdAt: now,
      updatedAt: now,
    })),
  );
}

/** How long a claimed message stays reserved for its worker; deliveries must finish well within it. */
export const LEASE_MS = 5 * 60_000;
/** Messages claimed at once by one worker, and delivered concurrently. */
const CLAIM_BATCH = 10;
const MAX_ERROR_LENGTH = 2_000;

export interface DeliverySummary {
  sent: number;
  retried: number;
  failed: number;
  dropped: number;
  /** Outcomes not recorded because the worker's lease had run out (another worker took the message over). */
  lost: number;
}

/**
 * Delivers due messages of the given channels until none is due or `limit` were claimed. Safe to run in any number
 * of processes at once: each message is claimed by one worker at a time (see claimDue).
 */
export async function deliverDue(
  db: Db,
  channels: OutboxChannel[],
  now: Date,
  limit = 100,
  random: () => number = Math.random,
): Promise<DeliverySummary> {
  const summary: DeliverySummary = { sent: 0, retried: 0, failed: 0, dropped: 0, lost: 0 };
  const byName = new Map(channels.map((c) => [c.name, c]));
  if (byName.size === 0) return summary;
  const claimToken = randomUUID();
  for (let claimed = 0; claimed < limit;) {
    const rows = await repo.claimDue(
      db,
      [...byName.keys()],
      now,
      new Date(now.getTime() + LEASE_MS),
      claimToken,
      Math.min(CLAIM_BATCH, limit - claimed),
    );
    if (rows.length === 0) break;
    claimed += rows.length;
    await Promise.all(
      rows.map(async (row) => {
        const channel = byName.get(row.channel)!;
        let result: DeliveryResult;
        try {
          result = await channel.deliver(row, { db, now });
        } catch (err) {
          // A bug or an unexpected error in a channel is treated as temporary: it may be fixed by a deploy.
          result = { status: 'retry', error: String((err as Error)?.stack ?? err) };
        }
        const outcome = settlement(channel, row, result, now, random);
        const recorded = await repo.settle(db, row.id, claimToken, outcome.values, now);
        summary[recorded ? outcome.counter : 'lost']++;
      }),
    );
  }
  return summary;
}

function settlement(channel: OutboxChannel, row: OutboxRow, result: DeliveryResult, now: Date, random: () => number) {
  const truncate = (text: string) => text.slice(0, MAX_ERROR_LENGTH);
  switch (result.status) {
    case 'sent':
      return { counter: 'sent' as const, values: { status: 'sent' as const, finishedAt: now, lastError: null } };
    case 'dropped':
      return { counter: 'dropped' as const, values: { status: 'dropped' as const, finishedAt: now, lastError: truncate(result.reason) } };
    case 'failed':
      return { counter: 'failed' as const, values: { status: 'failed' as const, finishedAt: now, lastError: truncate(result.error) } };
    case 'retry':
      if (row.attempts >= channel.retry.maxAttempts) {
        return { counter: 'failed' as const, values: { status: 'failed' as const, finishedAt: now, lastError: truncate(result.error) } };
      }
      return {
        counter: 'retried' as const,
        values: {
          status: 'pending' as const,
          lastError: truncate(result.error),
          nextAttemptAt: new Date(now.getTime() + retryDelayMs(channel.retry, row.attempts, random)),
        },
      };
  }
}

/** Queues a finished (sent, failed or dropped) message again, due at once; undefined if it is still pending. */
export const requeue = repo.requeue;

/** Sent and dropped messages are kept this long as the record of what went out, then deleted. */
export const KEEP_FINISHED_MESSAGES_MS = 45 * 24 * 3600 * 1000;

export async function purgeFinishedMessages(db: Db, now: Date): Promise<number> {
  return repo.deleteFinishedBefore(db, new Date(now.getTime() - KEEP_FINISHED_MESSAGES_MS));
}

/**
 * Releases a message from its ordering key, so the messages queued after it no longer wait for it: a webhook
 * endpoint's messages keep their order while it answers, and a failing one does not hold the rest for days.
 */
export const releaseOrdering = repo.clearOrderingKey;

export const findMessages = repo.findByIds;
