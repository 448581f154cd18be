import { randomBytes } from 'node:crypto';

let lastMs = 0;
let counter = 0;

/**
 * A UUIDv7 (RFC 9562) whose order follows creation order within this process: 48 bits of milliseconds, then a
 * 12-bit counter that breaks ties within one millisecond (and carries into the millisecond when it overflows),
 * then random bits. PostgreSQL compares uuids byte by byte, so rows created in one transaction at one `now` sort
 * in the order they were made. `at` is the caller's clock (an injectable one in tests); it never runs backwards here.
 */
export function orderedId(at: Date = new Date()): string {
  const ms = Math.max(at.getTime(), lastMs);
  if (ms === lastMs) {
    counter++;
    if (counter > 0xfff) {
      counter = 0;
      lastMs = ms + 1;
    }
  } else {
    counter = 0;
    lastMs = ms;
  }
  const bytes = randomBytes(16);
  bytes.writeUIntBE(lastMs, 0, 6);
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
