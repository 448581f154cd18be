import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { insertCategory, type CategoryRow, type NewCategory } from '../../src/modules/categories/categories.repository.js';
import { insertEvent, type EventRow, type NewEvent } from '../../src/modules/events/events.repository.js';

const unique = () => randomBytes(4).toString('hex');
const WEEK_MS = 7 * 24 * 3600 * 1000;

/** Inserts a category directly (the routes have their own tests). */
export async function createCategory(app: FastifyInstance, overrides: Partial<NewCategory> = {}): Promise<CategoryRow> {
  const id = unique();
  return insertCategory(app.db, { name: `Category ${id}`, slug: `category-${id}`, createdAt: app.clock.now(), ...overrides });
}

/** Inserts an event of `organizer` directly; by default active, 50 seats, starting a week after the test clock's now. */
export async function createEvent(
  app: FastifyInstance,
  organizer: { id: string },
  overrides: Partial<NewEvent> = {},
): Promise<EventRow> {
  const now = app.clock.now();
  return insertEvent(app.db, {
    title: `Event ${unique()}`,
    description: 'A test event.',
    location: 'Lagos, Nigeria',
    dateTime: new Date(now.getTime() + WEEK_MS),
    capacity: 50,
    organizerId: organizer.id,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  });
}
