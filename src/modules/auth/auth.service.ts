import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import { ApiError } from '../../lib/errors.js';
import { timingSafeDummyHash, verifyPassword } from '../../lib/passwords.js';
import * as usersRepo from '../users/users.repository.js';
import * as tokensRepo from './refresh-tokens.repository.js';
import type { TokenService } from './tokens.js';

export interface TokenPair {
  access: string;
  refresh: string;
}

const invalidCredentials = () =>
  new ApiError(401, 'No active account found with the given credentials', 'authentication_failed', {
    'WWW-Authenticate': 'Bearer realm="api"',
  });
const invalidToken = () =>
  new ApiError(401, 'Token is invalid or expired', 'token_not_valid', { 'WWW-Authenticate': 'Bearer realm="api"' });

export function throttled(msBeforeNext: number): ApiError {
  const seconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new ApiError(429, `Request was throttled. Expected available in ${seconds} seconds.`, 'throttled', {
    'Retry-After': String(seconds),
  });
}

/**
 * A counter of `points` per `durationSeconds`. On PostgreSQL it lives in the `rate_limits` table, so every worker
 * and every container on that database counts together (one attacker cannot get N times the attempts by landing
 * on N processes); if the database cannot answer, a counter in this process stands in. On the embedded database
 * (one process) it lives in memory.
 */
function sharedLimiter(pool: pg.Pool | undefined, keyPrefix: string, points: number, durationSeconds: number): RateLimiterAbstract {
  const memory = new RateLimiterMemory({ keyPrefix, points, duration: durationSeconds });
  if (!pool) return memory;
  return new RateLimiterPostgres({
    storeClient: pool,
    storeType: 'pool',
    tableName: 'rate_limits',
    tableCreated: true, // by the migrations
    keyPrefix,
    points,
    duration: durationSeconds,
    insuranceLimiter: memory,
  });
}

/**
 * The key failed logins are counted under: the account's id when the email or username names one, so both ways
 * of naming it share one count; otherwise a hash of what was typed (lower case). Either is short and fixed in
 * length, so it always fits the rate_limits table (a long email once overflowed the key column, and the
 * failure was then counted where it was never read).
 */
export function loginAccountKey(user: { id: string } | undefined, identifier: string): string {
  return user ? `user:${user.id}` : `name:${createHash('sha256').update(identifier.toLowerCase()).digest('hex')}`;
}

/**
 * Counts failed logins per account (see loginAccountKey) and per client IP; only failures count, so a user who
 * types the password right is never slowed.
 */
export class LoginThrottle {
  private readonly perAccount: RateLimiterAbstract;
  private readonly perIp: RateLimiterAbstract;
  constructor(
    private readonly config: Config,
    pool?: pg.Pool,
  ) {
    const window = config.loginFailureWindowSeconds;
    this.perAccount = sharedLimiter(pool, 'login-account', config.loginFailuresPerAccount, window);
    this.perIp = sharedLimiter(pool, 'login-ip', config.loginFailuresPerIp, window);
  }

  async assertAllowed(account: string, ip: string): Promise<void> {
    if (!this.config.rateLimitsEnabled) return;
    const [byAccount, byIp] = await Promise.all([this.perAccount.get(account), this.perIp.get(ip)]);
    for (const [state, limit] of [
      [byAccount, this.config.loginFailuresPerAccount],
      [byIp, this.config.loginFailuresPerIp],
    ] as const) {
      if (state && state.consumedPoints >= limit) throw throttled(state.msBeforeNext);
    }
  }

  async recordFailure(account: string, ip: string): Promise<void> {
    if (!this.config.rateLimitsEnabled) return;
    await Promise.all([
      this.perAccount.consume(account).catch((res: RateLimiterRes) => res),
      this.perIp.consume(ip).catch((res: RateLimiterRes) => res),
    ]);
  }

  async recordSuccess(account: string): Promise<void> {
    if (!this.config.rateLimitsEnabled) return;
    await this.perAccount.delete(account);
  }
}

/**
 * `points` actions per key (a client IP, an address) per `durationSeconds`, counted as sharedLimiter counts.
 * Sign-ups per IP use it, so one address cannot mass-create accounts; so do password reset requests.
 */
export class KeyThrottle {
  private readonly limiter: RateLimiterAbstract;
  constructor(
    private readonly config: Pick<Config, 'rateLimitsEnabled'>,
    pool: pg.Pool | undefined,
    keyPrefix: string,
    points: number,
    durationSeconds: number,
  ) {
    this.limiter = sharedLimiter(pool, keyPrefix, points, durationSeconds);
  }

  /** Counts one action; 429 with Retry-After when the key has used its share. */
  async consume(key: string): Promise<void> {
    if (!this.config.rateLimitsEnabled) return;
    try {
      await this.limiter.consume(key);
    } catch (res) {
      if (res instanceof RateLimiterRes) throw throttled(res.msBeforeNext);
      throw res;
    }
  }

  /** Counts one action; false when the key has used its share (for limits the caller keeps silent). */
  async allow(key: string): Promise<boolean> {
    if (!this.config.rateLimitsEnabled) return true;
    try {
      await this.limiter.consume(key);
      return true;
    } catch (res) {
      if (res instanceof RateLimiterRes) return false;
      throw res;
    }
  }
}

export const signupThrottle = (config: Config, pool?: pg.Pool) =>
  new KeyThrottle(config, pool, 'signup-ip', config.registrationsPerIpPerHour, 3600);

async function issuePair(db: Db, tokens: TokenService, userId: string, now: Date, familyId: string): Promise<TokenPair> {
  const refresh = tokens.issue('refresh', userId, now, familyId);
  await tokensRepo.insertRefreshToken(db, {
    id: refresh.claims.jti,
    userId,
    familyId,
    expiresAt: new Date(refresh.claims.exp * 1000),
    createdAt: now,
  });
  return { access: tokens.issue('access', userId, now).token, refresh: refresh.token };
}

export async function login(
  db: Db,
  tokens: TokenService,
  throttle: LoginThrottle,
  input: { identifier: string; password: string; ip: string },
  now: Date,
): Promise<TokenPair> {
  const user = await usersRepo.findUserByLogin(db, input.identifier);
  const account = loginAccountKey(user, input.identifier);
  await throttle.assertAllowed(account, input.ip);
  // Verify against a dummy hash when there is no such user, so response time does not reveal which emails exist.
  const passwordOk = await verifyPassword(user?.passwordHash ?? (await timingSafeDummyHash()), input.password);
  if (!user || !passwordOk || !user.isActive) {
    await throttle.recordFailure(account, input.ip);
    throw invalidCredentials();
  }
  await throttle.recordSuccess(account);
  return issuePair(db, tokens, user.id, now, randomUUID());
}

/**
 * Rotates a refresh token. A token that was already rotated (or revoked) being presented again means it leaked:
 * the whole family is revoked, so neither the thief nor the victim can keep refreshing.
 */
export async function refresh(db: Db, tokens: TokenService, token: string, now: Date): Promise<TokenPair> {
  const claims = tokens.read(token, 'refresh', now);
  if (!claims) throw invalidToken();
  const outcome = await db.transaction(async (tx) => {
    const row = await tokensRepo.lockRefreshToken(tx, claims.jti);
    if (!row || row.userId !== claims.sub) return 'invalid' as const;
    if (row.revokedAt) {
      await tokensRepo.revokeFamily(tx, row.familyId, now);
      return 'reused' as const;
    }
    if (row.expiresAt.getTime() <= now.getTime()) return 'invalid' as const;
    const user = await usersRepo.findUserById(tx, row.userId);
    if (!user?.isActive) return 'invalid' as const;
    await tokensRepo.revokeRefreshToken(tx, row.id, now);
    return issuePair(tx, tokens, user.id, now, row.familyId);
  });
  if (typeof outcome === 'string') throw invalidToken();
  return outcome;
}

/** Revokes the presented refresh token and every token rotated from the same login. */
export async function logout(db: Db, tokens: TokenService, token: string, now: Date): Promise<void> {
  const claims = tokens.read(token, 'refresh', now);
  if (!claims?.fam) throw invalidToken();
  await tokensRepo.revokeFamily(db, claims.fam, now);
}

export const revokeAllRefreshTokens = tokensRepo.revokeAllForUser;
