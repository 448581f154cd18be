import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import { ValidationError, type FieldErrors } from '../../lib/errors.js';
import { hashPassword } from '../../lib/passwords.js';
import type { LinkSigner } from '../../lib/signed-tokens.js';
import { queueMails } from '../mail/mail.service.js';
import { passwordProblems } from '../users/password-policy.js';
import * as usersRepo from '../users/users.repository.js';
import type { UserRow } from '../users/users.repository.js';
import { passwordResetToken, passwordResetTokenHash, readEmailVerificationToken } from './account-tokens.js';
import { KeyThrottle } from './auth.service.js';
import * as repo from './password-reset.repository.js';
import * as tokensRepo from './refresh-tokens.repository.js';

export const PASSWORD_RESET_TTL_MS = 3600 * 1000;
const RESETS_PER_IP_PER_HOUR = 20;
const RESETS_PER_ACCOUNT_PER_HOUR = 3;

/**
 * Throttles reset requests: per client IP with a 429 (which says nothing about any account), and per address
 * silently (the answer stays 202, the mail is just not sent), so nobody can flood a mailbox or probe accounts.
 */
export class PasswordResetThrottle {
  readonly perIp: KeyThrottle;
  readonly perAccount: KeyThrottle;
  constructor(config: Pick<Config, 'rateLimitsEnabled'>, pool?: pg.Pool) {
    this.perIp = new KeyThrottle(config, pool, 'reset-ip', RESETS_PER_IP_PER_HOUR, 3600);
    this.perAccount = new KeyThrottle(config, pool, 'reset-account', RESETS_PER_ACCOUNT_PER_HOUR, 3600);
  }
}

/**
 * Starts a password reset: when an active account has this address, a single-use token valid one hour is stored
 * (hashed) and its mail queued, in one transaction. The caller answers the same whether or not it exists.
 */
export async function requestPasswordReset(
  db: Db,
  signer: LinkSigner,
  throttle: PasswordResetThrottle,
  email: string,
  now: Date,
): Promise<void> {
  const user = await usersRepo.findUserByEmail(db, email);
  if (!user || !user.isActive) return;
  if (!(await throttle.perAccount.allow(user.email.toLowerCase()))) return;
  const nonce = randomBytes(32).toString('base64url');
  const tokenHash = passwordResetTokenHash(passwordResetToken(signer, nonce));
  await db.transaction(async (tx) => {
    await repo.insertResetToken(tx, {
      tokenHash,
      userId: user.id,
      expiresAt: new Date(now.getTime() + PASSWORD_RESET_TTL_MS),
      createdAt: now,
    });
    await queueMails(tx, [{ kind: 'password_reset', userId: user.id, nonce }], now);
  });
}

const invalidResetToken = () => ValidationError.field('token', 'This password reset link is invalid or has expired.');

/**
 * Sets a new password with a reset token, under the same rules as sign-up. The token is spent, every other reset
 * token of the user dropped and every refresh token revoked, in one transaction.
 */
export async function confirmPasswordReset(
  db: Db,
  input: { token: string; new_password: string; new_password2?: string },
  now: Date,
): Promise<void> {
  const tokenHash = passwordResetTokenHash(input.token);
  const userId = await repo.findResetTokenUser(db, tokenHash, now);
  const user = userId ? await usersRepo.findUserById(db, userId) : undefined;
  if (!user || !user.isActive) throw invalidResetToken();
  const errors: FieldErrors = {};
  if (input.new_password2 !== undefined && input.new_password !== input.new_password2) {
    errors.new_password2 = ["Password fields didn't match."];
  }
  const problems = passwordProblems(input.new_password, { username: user.username, email: user.email });
  if (problems.length) errors.new_password = problems;
  if (Object.keys(errors).length) throw new ValidationError(errors);
  const passwordHash = await hashPassword(input.new_password);
  const spent = await db.transaction(async (tx) => {
    if ((await repo.consumeResetToken(tx, tokenHash, now)) !== user.id) return false;
    await usersRepo.updateUser(tx, user.id, { passwordHash });
    await repo.deleteResetTokensOf(tx, user.id);
    await tokensRepo.revokeAllForUser(tx, user.id, now);
    return true;
  });
  if (!spent) throw invalidResetToken();
}

/** Marks the address verified; the token must be unexpired and for the user's current address. */
export async function verifyEmail(db: Db, signer: LinkSigner, token: string, now: Date): Promise<UserRow> {
  const userId = await readEmailVerificationToken(signer, token, async (id) => (await usersRepo.findUserById(db, id))?.email, now);
  const user = userId ? await usersRepo.findUserById(db, userId) : undefined;
  if (!user) throw ValidationError.field('token', 'This verification link is invalid or has expired.');
  if (user.emailVerifiedAt) return user;
  return (await usersRepo.updateUser(db, user.id, { emailVerifiedAt: now }))!;
}

export const deleteExpiredResetTokens = repo.deleteExpiredResetTokens;
