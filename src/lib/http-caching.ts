import { createHash } from 'node:crypto';

/**
 * The HTTP caching rules (RFC 9110 validators, RFC 9111 Cache-Control, RFC 5861 stale-while-revalidate) as pure
 * functions; src/plugins/http-cache.ts applies them to responses and src/plugins/public-cache.ts to its pages.
 */

/** A strong entity tag of the exact bytes sent: any change of the body changes it. */
export function entityTag(body: string): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`;
}

const ENTITY_TAG = /(?:W\/)?"([^"]*)"/g;

/**
 * Whether an If-None-Match header matches the current representation's tag (RFC 9110 §13.1.2): `*` matches any
 * current representation; otherwise any tag of the list, compared weakly (a `W/` on either side is ignored).
 */
export function noneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  for (const [tag] of header.matchAll(ENTITY_TAG)) {
    if (tag.replace(/^W\//, '') === opaque) return true;
  }
  return false;
}

/**
 * Cache-Control of a public page that may be `freshForMs` older at most before it must be rebuilt, and answered
 * while it is being rebuilt for `graceMs` after that. Shared caches (s-maxage) get the whole of both, counted in
 * whole seconds down, never up, so a page that has already spent part of its lifetime in the server's own cache
 * is held downstream only for what is left: the age of what any cache answers stays within lifetime + grace.
 * Browsers (max-age=0) ask again every time (a 304 when nothing changed).
 */
export function sharedCacheControl(freshForMs: number, graceMs: number): string {
  const sMaxAge = Math.max(0, Math.floor(freshForMs / 1000));
  const staleWhileRevalidate = Math.max(0, Math.floor((freshForMs + graceMs) / 1000) - sMaxAge);
  return `public, max-age=0, s-maxage=${sMaxAge}` + (staleWhileRevalidate > 0 ? `, stale-while-revalidate=${staleWhileRevalidate}` : '');
}

/** A Vary header value with `field` added once (case-insensitively) to what is already there. */
export function withVary(current: string | number | string[] | undefined, field: string): string {
  const fields = (Array.isArray(current) ? current.join(',') : String(current ?? ''))
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (fields.includes('*') || fields.some((name) => name.toLowerCase() === field.toLowerCase())) return fields.join(', ');
  return [...fields, field].join(', ');
}
