import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from '../../db/client.js';
import { ApiError } from '../../lib/errors.js';
import * as repo from './idempotency.repository.js';

/** Keys are honoured for a day, as payment APIs do; older ones are forgotten and may be used again. */
export const KEY_TTL_MS = 24 * 3600 * 1000;
/** An in-progress key older than this belongs to a request that died with its process; a retry may take it over. */
const ABANDONED_AFTER_MS = 2 * 60 * 1000;
const POLL_INTERVAL_MS = 25;

export interface KeyRef {
  userId: string;
  key: string;
}

export type Claim = { kind: 'owner' } | { kind: 'replay'; responseCode: number; responseBody: unknown };

/** `METHOD path sha256(body)`; the path loses its trailing slash since both forms are served. */
export function fingerprint(method: string, path: string, body: unknown): string {
  const digest = createHash('sha256')
    .update(JSON.stringify(body ?? null))
    .digest('hex');
  return `${method.toUpperCase()} ${path.replace(/\/+$/, '')} ${digest}`;
}

const reused = () =>
  new ApiError(
    422,
    'This Idempotency-Key was already used for a different request. Use a new key for a new request.',
    'idempotency_key_reused',
  );

const stillRunning = () =>
  new ApiError(409, 'A request with this Idempotency-Key is still being processed. Retry shortly.', 'idempotency_key_in_progress', {
    'Retry-After': '1',
  });

/**
 * Claims `key` for one request. The first request inserts the key (the primary key lets exactly one win) and
 * becomes its owner; a later one with the same fingerprint gets the stored response, waiting up to `waitMs` while
 * the owner is still working; one with another fingerprint is refused with 422.
 */
export async function claim(db: Db, ref: KeyRef, requestFingerprint: string, now: Date, waitMs: number): Promise<Claim> {
  const waitUntil = Date.now() + waitMs;
  for (;;) {
    const inserted = await repo.insertKeyIfAbsent(db, { ...ref, fingerprint: requestFingerprint, createdAt: now });
    if (inserted) return { kind: 'owner' };
    const existing = await repo.findKey(db, ref.userId, ref.key);
    if (!existing) continue; // its owner failed and released it between our two statements
    // Kept past its day only until the next purge: it means nothing any more, so this request starts it afresh.
    if (now.getTime() - existing.createdAt.getTime() >= KEY_TTL_MS) {
      if (await repo.renewExpiredKey(db, existing, requestFingerprint, now)) return { kind: 'owner' };
      continue;
    }
    if (existing.fingerprint !== requestFingerprint) throw reused();
    if (existing.status === 'completed') {
      return { kind: 'replay', responseCode: existing.responseCode!, responseBody: existing.responseBody };
    }
    if (now.getTime() - existing.createdAt.getTime() > ABANDONED_AFTER_MS && (await repo.takeOverKey(db, existing, now))) {
      return { kind: 'owner' };
    }
    if (Date.now() >= waitUntil) throw stillRunning();
    await sleep(POLL_INTERVAL_MS);
  }
}

/** Stores the owner's answer for replays. */
export const complete = (db: Db, ref: KeyRef, responseCode: number, responseBody: unknown) =>
  repo.completeKey(db, ref.userId, ref.key, responseCode, responseBody);

/** Frees the key after a server error, so a retry acts afresh instead of replaying a failure. */
export const release = (db: Db, ref: KeyRef) => repo.deleteKey(db, ref.userId, ref.key);

/** Deletes every expired key; the scheduler calls it on each pass (claim ignores expired keys meanwhile). */
export const purgeExpired = (db: Db, now: Date) => repo.deleteKeysBefore(db, new Date(now.getTime() - KEY_TTL_MS));
