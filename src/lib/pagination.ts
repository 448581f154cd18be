import type { FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import { Type, type TSchema } from 'typebox';
import { ValidationError, notFound } from './errors.js';
import { linkBase } from './public-url.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** Query parameters every list accepts; spread into a route's querystring schema. */
/** Bounded so the offset stays a small finite bigint. */
const MAX_PAGE = 2_147_483_647;

export const PaginationQuery = {
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, description: 'Page number, from 1.' })),
  page_size: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: MAX_PAGE,
      description: `Items per page (default ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE}).`,
    }),
  ),
};

/** `{count, next, previous, results}` around an item schema, as the reference framework pages lists. */
export const Paginated = <T extends TSchema>(item: T) =>
  Type.Object({
    count: Type.Integer(),
    next: Type.Union([Type.String({ format: 'uri' }), Type.Null()]),
    previous: Type.Union([Type.String({ format: 'uri' }), Type.Null()]),
    results: Type.Array(item),
  });

export interface PageWindow {
  page: number;
  pageSize: number;
  limit: number;
  offset: number;
}

/** Larger page sizes are capped, not refused, as the reference framework's max_page_size does. */
export function pageWindow(query: { page?: number; page_size?: number }): PageWindow {
  const page = query.page ?? 1;
  // Ajv coerces "1e309" to Infinity and lets it through as an integer; the database would choke on the offset.
  if (!Number.isSafeInteger(page) || page > MAX_PAGE) throw ValidationError.field('page', 'A valid integer is required.');
  const pageSize = Math.min(query.page_size ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  return { page, pageSize, limit: pageSize, offset: (page - 1) * pageSize };
}

function pageUrl(request: FastifyRequest, page: number): string {
  const base = linkBase(request);
  const url = new URL(`${base}${request.url}`);
  if (page === 1) url.searchParams.delete('page');
  else url.searchParams.set('page', String(page));
  return url.toString();
}

/** 404 past the last page, as the reference framework answers; else the links to the neighbouring pages. */
function pageLinks(request: FastifyRequest, window: PageWindow, total: number, shown: number) {
  if (window.page > 1 && window.offset >= total) throw notFound('Invalid page.');
  return {
    next: window.offset + shown < total ? pageUrl(request, window.page + 1) : null,
    previous: window.page > 1 ? pageUrl(request, window.page - 1) : null,
  };
}

export function paginated<T>(request: FastifyRequest, window: PageWindow, total: number, results: T[]) {
  const { next, previous } = pageLinks(request, window, total, results.length);
  return { count: total, next, previous, results };
}

/**
 * The same envelope as finished JSON text around a results array that is already JSON text (built by the
 * database). `total` must be counted in the same snapshot as the page, so a full page is exactly `limit` items.
 */
export function paginatedJson(request: FastifyRequest, window: PageWindow, total: number, resultsJson: string): string {
  return `${paginatedHead(request, window, total)}${resultsJson}}`;
}

/** paginatedJson up to its results: `{"count":…,"next":…,"previous":…,"results":`. */
function paginatedHead(request: FastifyRequest, window: PageWindow, total: number): string {
  const shown = Math.min(window.limit, Math.max(0, total - window.offset));
  const { next, previous } = pageLinks(request, window, total, shown);
  return `{"count":${total},"next":${JSON.stringify(next)},"previous":${JSON.stringify(previous)},"results":`;
}

/**
 * Recent pages' bodies by their results' key (up to 24 MB per process, as many pages as the event memo holds): the
 * last body sent with those results and the head it began with, so the next request with the same head gets the same
 * bytes.
 */
const bodies = new LRUCache<string, { head: string; body: Buffer }>({
  maxSize: 24_000_000,
  sizeCalculation: ({ body }, key) => body.length + key.length,
});
const CLOSE = Buffer.from('}');

/**
 * paginatedJson as the body to send. An answer to a signed-in request is never kept by a cache (public-cache.ts,
 * http-cache.ts), so it goes out as bytes. Results that name their exact rows (`resultsKey`: the page's `id version`
 * list, which the row-version memo answers with the same text) keep their body by that key, so a page the same user
 * (or anyone on the same page with the same total) reads again is neither concatenated, flattened and encoded nor
 * copied, and leaves no garbage (issue 18: encoding was about a fifth of the signed-in 100-event list's Node time,
 * copying 76 KB once more about 3%). A new head (another total, other links) is copied once in front of the same
 * results' bytes. Nothing writes to a body once sent. Anonymous answers stay text, which the page cache keeps and
 * tags.
 *
 * The key is the short version list, not the results' text: V8 hashes a string longer than 16,383 characters by its
 * length alone, so a map keyed by 16-20 KB search pages put every page of a length in one chain and compared them
 * character by character (issue 18: a sixth of a signed-in search's Node time, which went from about 480 to 360 µs).
 */
export function paginatedBody(
  request: FastifyRequest,
  window: PageWindow,
  total: number,
  resultsJson: string,
  resultsKey?: string,
): string | Buffer {
  if (!request.headers.authorization) return paginatedJson(request, window, total, resultsJson);
  const head = paginatedHead(request, window, total);
  const known = resultsKey === undefined ? undefined : bodies.get(resultsKey);
  if (known?.head === head) return known.body;
  const results = known ? known.body.subarray(Buffer.byteLength(known.head), known.body.length - CLOSE.length) : Buffer.from(resultsJson);
  const body = Buffer.concat([Buffer.from(head), results, CLOSE]);
  if (resultsKey !== undefined) bodies.set(resultsKey, { head, body });
  return body;
}
