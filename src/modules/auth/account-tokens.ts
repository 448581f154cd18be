import type { LinkSigner } from '../../lib/signed-tokens.js';
import { sha256 } from '../../lib/signed-tokens.js';

/**
 * The tokens mailed for account recovery and verification. Neither is ever stored as such:
 * - a password reset token is derived from a random nonce (kept only in the queued mail) and the server secret;
 *   the database keeps its SHA-256, so neither a copy of the database nor of the outbox is enough to use one;
 * - an email verification token is signed (user, expiry) and bound to the address it was sent to, so it stops
 *   working when the address changes.
 */

export const passwordResetToken = (signer: LinkSigner, nonce: string) => signer.derive('password-reset', nonce);
export const passwordResetTokenHash = (token: string) => sha256(token);

export const EMAIL_VERIFICATION_TTL_MS = 7 * 24 * 3600 * 1000;

export function emailVerificationToken(signer: LinkSigner, userId: string, email: string, now: Date): string {
  const expires = Math.floor((now.getTime() + EMAIL_VERIFICATION_TTL_MS) / 1000);
  return signer.sign('email-verification', [userId, String(expires)], email.toLowerCase());
}

/** The user id of a valid, unexpired token for `email`; `emailOf` reads the user's current address. */
export async function readEmailVerificationToken(
  signer: LinkSigner,
  token: string,
  emailOf: (userId: string) => Promise<string | undefined>,
  now: Date,
): Promise<string | undefined> {
  const userId = token.split('.')[0];
  if (!userId || !/^[0-9a-f-]{36}$/i.test(userId)) return undefined;
  const email = await emailOf(userId);
  if (!email) return undefined;
  const parts = signer.verify('email-verification', token, 2, email.toLowerCase());
  if (!parts || Number(parts[1]) * 1000 <= now.getTime()) return undefined;
  return userId;
}
