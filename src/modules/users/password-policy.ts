import { COMMON_PASSWORDS } from './common-passwords.js';

/**
 * The reference framework's default password validators: minimum length, not entirely numeric, not a
 * common password, not too similar to the username or email. Returns the messages for every rule broken.
 */
export function passwordProblems(password: string, attributes: { username?: string; email?: string }): string[] {
  const problems: string[] = [];
  if (password.length < 8) problems.push('This password is too short. It must contain at least 8 characters.');
  if (/^\d+$/.test(password)) problems.push('This password is entirely numeric.');
  if (COMMON_PASSWORDS.has(password.toLowerCase().trim())) problems.push('This password is too common.');
  for (const [name, value] of Object.entries(attributes)) {
    if (value && isTooSimilar(password, value)) {
      problems.push(`The password is too similar to the ${name === 'email' ? 'email address' : name}.`);
    }
  }
  return problems;
}

/** Python's SequenceMatcher.quick_ratio: 2 * shared characters (as multisets) / total length. */
function quickRatio(a: string, b: string): number {
  const counts = new Map<string, number>();
  for (const ch of b) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let matches = 0;
  for (const ch of a) {
    const left = counts.get(ch) ?? 0;
    if (left > 0) {
      matches++;
      counts.set(ch, left - 1);
    }
  }
  return a.length + b.length === 0 ? 0 : (2 * matches) / (a.length + b.length);
}

const MAX_SIMILARITY = 0.7;

function isTooSimilar(password: string, attribute: string): boolean {
  const lowered = password.toLowerCase();
  const value = attribute.toLowerCase();
  // As the reference validator does: compare with the whole value and with each word of it.
  const parts = [value, ...value.split(/\W+/).filter(Boolean)];
  return parts.some((part) => quickRatio(lowered, part) >= MAX_SIMILARITY);
}
