import { eq } from 'drizzle-orm';
import { describe, expect, it, vi } from 'vitest';
import { tickets } from '../src/db/schema.js';
import { appWithOrganizer, createEvent, createUser, registerFor } from './helpers/factories.js';

// A drawn ticket code that is already taken (one chance in 2^60) must be drawn again, never fail the order nor
// reuse the code. The code source is replaced so that the collisions happen on demand.
const forced: string[] = [];
vi.mock('../src/modules/tickets/ticket-codes.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/modules/tickets/ticket-codes.js')>();
  return { ...real, ticketCode: (seat: number) => forced.shift() ?? real.ticketCode(seat) };
});

const ctx = appWithOrganizer();

describe('a ticket code that is already taken', () => {
  it('is drawn again: the order still gets one ticket per seat, every code unique', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { capacity: 10 });
    const first = await registerFor(ctx.app, await createUser(ctx.app), event.id, 2);
    expect(first.statusCode).toBe(201);
    const taken = first.json().ticket_instances.map((t: { code: string }) => t.code) as string[];

    // The next order's two seats draw both taken codes first.
    forced.push(...taken);
    const second = await registerFor(ctx.app, await createUser(ctx.app), event.id, 2);
    expect(second.statusCode, second.body).toBe(201);
    expect(forced).toEqual([]);
    const codes = second.json().ticket_instances.map((t: { code: string; seat: number }) => `${t.seat}:${t.code}`) as string[];
    expect(codes).toHaveLength(2);
    expect(codes.map((c) => c.split(':')[0])).toEqual(['1', '2']);
    for (const code of taken) expect(codes.some((c) => c.endsWith(code))).toBe(false);

    const stored = await ctx.app.db.select().from(tickets).where(eq(tickets.eventId, event.id));
    expect(stored).toHaveLength(4);
    expect(new Set(stored.map((t) => t.code)).size).toBe(4);
    // What the answer showed is what was stored.
    const mine = stored.filter((t) => t.registrationId === second.json().id).map((t) => `${t.seat}:${t.code}`);
    expect(mine.sort()).toEqual([...codes].sort());
  });
});
