import { randomBytes } from 'node:crypto';

/** Crockford's base32: no I, L, O or U, so a code read aloud or typed at the door is not misread. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RANDOM_CHARS = 12; // 12 x 5 bits = 60 bits from the CSPRNG

/** 60 random bits as 12 base32 characters. */
export function randomCodeBody(): string {
  let bits = randomBytes(8).readBigUInt64BE();
  let out = '';
  for (let i = 0; i < RANDOM_CHARS; i++) {
    out += ALPHABET[Number(bits & 31n)];
    bits >>= 5n;
  }
  return out;
}

/**
 * `EVT-<12 random chars>-<seat>`. Every ticket gets its own random part (not one per order), so handing one seat's
 * ticket to a friend does not reveal the codes of the other seats.
 */
export const ticketCode = (seat: number) => `EVT-${randomCodeBody()}-${seat}`;

export const TICKET_CODE_PATTERN = '^EVT-[0-9A-Z]{12}-[0-9]+$';
