import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'drizzle-orm';
import { Type } from 'typebox';

/**
 * The benchmark's ceilings, registered only when BENCH_ROUTES=1 (bench/run.ts sets it) and hidden from the
 * OpenAPI document. They run inside the real app, so they pay the same hooks (helmet, request ids, error handler)
 * as every API route:
 * - B0 `/bench/bare/` answers an event-shaped JSON object from memory: the framework's ceiling on this machine;
 * - B1 `/bench/select1/` runs one `SELECT 1` through the app's pool: the ceiling of any route touching the database;
 * - B2 `/bench/bare-page/` answers a page of 100 events' JSON text (about 76 KB, the size of `GET
 *   /events/?page_size=100` on the bench's data) from memory: the ceiling of any route sending that much.
 */
const BenchEvent = Type.Object({
  id: Type.String(),
  title: Type.String(),
  description: Type.String(),
  location: Type.String(),
  date_time: Type.String(),
  end_time: Type.Union([Type.String(), Type.Null()]),
  capacity: Type.Integer(),
  registered_count: Type.Integer(),
  waitlist_count: Type.Integer(),
  event_ticket_sells_off_soon: Type.Integer(),
  tickets_remaining: Type.Integer(),
  is_selling_out_soon: Type.Boolean(),
  is_sold_out: Type.Boolean(),
  is_active: Type.Boolean(),
  is_recurring: Type.Boolean(),
  organizer: Type.String(),
  category: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  updated_at: Type.String(),
});

const benchEvent = {
  id: '4f1c2b9e-7d4a-4c1e-9b7f-2a6d3e8c5b10',
  title: 'Lagos Tech Bootcamp',
  description: '3-day immersive coding event',
  location: 'Lagos, Nigeria',
  date_time: '2031-08-01T09:00:00.000Z',
  end_time: null,
  capacity: 50,
  registered_count: 12,
  waitlist_count: 0,
  event_ticket_sells_off_soon: 5,
  tickets_remaining: 38,
  is_selling_out_soon: false,
  is_sold_out: false,
  is_active: true,
  is_recurring: false,
  organizer: '0b7e4f5a-3c2d-4e1f-8a9b-6c5d4e3f2a10',
  category: '9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c60',
  created_at: '2031-03-31T10:00:00.000Z',
  updated_at: '2031-03-31T10:00:00.000Z',
};

// 100 event objects of about 760 bytes each, the size of the bench's stored event JSON.
const benchPage = JSON.stringify({
  count: 100,
  next: null,
  previous: null,
  results: Array.from({ length: 100 }, (_, i) => ({ ...benchEvent, description: `${i} ${'x'.repeat(207)}` })),
});

const benchRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/bench/bare-page/', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('application/json; charset=utf-8').send(benchPage),
  );

  app.get('/bench/bare/', { schema: { hide: true, response: { 200: BenchEvent } } }, async () => benchEvent);

  app.get('/bench/select1/', { schema: { hide: true, response: { 200: Type.Object({ ok: Type.Boolean() }) } } }, async () => {
    await app.db.execute(sql`select 1`);
    return { ok: true };
  });
};

export default benchRoutes;
