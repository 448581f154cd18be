import type { PageJson } from '../../db/row-version-cache.js';
import { LRUCache } from 'lru-cache';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { isStorableInstant } from '../../lib/validation.js';
import { ApiError, ValidationError, forbidden, notFound, type FieldErrors } from '../../lib/errors.js';
import { canCreateEvent, canManageEvent, canReadEvent } from '../../lib/access.js';
import type { AuthUser } from '../../plugins/auth.js';
import { recordStaffAction } from '../audit/audit.service.js';
import * as categories from '../categories/categories.service.js';
import { announceEventActivity, notifyEventChanged } from '../notifications/notifications.service.js';
import { cancelAllForEvent, capacityChanged, lockEventSeats, registrationsPerDay } from '../registrations/registrations.service.js';
import { countCheckedIn } from '../tickets/tickets.service.js';
import { freeSeats } from '../registrations/seat-rule.js';
import { eventCancelledItem, eventUpdatedItem, queueWebhooks } from '../webhooks/webhooks.service.js';
import { eventStatus } from './events.present.js';
import * as repo from './events.repository.js';
import type { EventFilter, EventRow } from './events.repository.js';
import type { EventChanges, EventInput, EventListQuery, EventStats, MyEventsQuery } from './events.schemas.js';

export type { EventRow };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export { eventStatus };

/**
 * An unpublished or cancelled event is seen by its organizer and staff only; for everyone else it does not exist.
 */
function assertVisible(actor: AuthUser | null, event: EventRow | undefined): asserts event is EventRow {
  if (!event || !canReadEvent(actor, event)) throw notFound();
}

export async function getVisibleEvent(db: Db, actor: AuthUser | null, id: string): Promise<EventRow> {
  const event = await repo.findEventById(db, id);
  assertVisible(actor, event);
  return event;
}

async function categoryProblem(db: Db, categoryId: string | null | undefined): Promise<string | undefined> {
  if (!categoryId) return undefined;
  return (await categories.findCategoryById(db, categoryId)) ? undefined : `Invalid pk "${categoryId}" - object does not exist.`;
}

interface EventFields {
  dateTime: Date;
  endTime: Date | null;
  capacity: number;
  threshold: number;
}

/** Rules that involve more than one field, checked on the event as it would be after the change. */
function crossFieldProblems(next: EventFields, errors: FieldErrors): void {
  if (next.endTime && next.endTime <= next.dateTime) errors.end_time = ['End time must be after date_time.'];
  if (next.threshold > next.capacity) {
    errors.event_ticket_sells_off_soon = [`Ensure this value is less than or equal to the capacity (${next.capacity}).`];
  }
}

const FUTURE = 'The event must start in the future.';

export async function createEvent(db: Db, actor: AuthUser, input: EventInput, now: Date): Promise<EventRow> {
  if (!canCreateEvent(actor)) throw forbidden('Only organizers can create events.');
  const next: EventFields = {
    dateTime: new Date(input.date_time),
    endTime: input.end_time ? new Date(input.end_time) : null,
    capacity: input.capacity,
    threshold: input.event_ticket_sells_off_soon ?? 0,
  };
  const errors: FieldErrors = {};
  if (!input.title.trim()) errors.title = ['This field may not be blank.'];
  if (!input.location.trim()) errors.location = ['This field may not be blank.'];
  if (next.dateTime <= now) errors.date_time = [FUTURE];
  crossFieldProblems(next, errors);
  const categoryError = await categoryProblem(db, input.category);
  if (categoryError) errors.category = [categoryError];
  if (Object.keys(errors).length) throw new ValidationError(errors);

  return repo.insertEvent(db, {
    title: input.title.trim(),
    description: input.description ?? '',
    location: input.location.trim(),
    dateTime: next.dateTime,
    endTime: next.endTime,
    capacity: next.capacity,
    sellsOffSoonThreshold: next.threshold,
    categoryId: input.category ?? null,
    isRecurring: input.is_recurring ?? false,
    isActive: input.is_active ?? true,
    organizerId: actor.id,
    createdAt: now,
    updatedAt: now,
  });
}

/**
 * Edits an event in one transaction that first locks its row, so a capacity change cannot interleave with a
 * registration: capacity may not drop below the seats already held.
 */
export async function updateEvent(db: Db, actor: AuthUser, id: string, changes: EventChanges, now: Date): Promise<EventRow> {
  return db.transaction(async (tx) => {
    const event = await lockEventSeats(tx, id);
    assertVisible(actor, event);
    if (!canManageEvent(actor, event)) throw forbidden();
    if (event.cancelledAt) {
      const detail = changes.is_active ? 'A cancelled event cannot be published again.' : 'A cancelled event cannot be edited.';
      throw new ApiError(409, detail, 'event_cancelled');
    }

    const next: EventFields = {
      dateTime: changes.date_time !== undefined ? new Date(changes.date_time) : event.dateTime,
      endTime: changes.end_time !== undefined ? (changes.end_time ? new Date(changes.end_time) : null) : event.endTime,
      capacity: changes.capacity ?? event.capacity,
      threshold: changes.event_ticket_sells_off_soon ?? event.sellsOffSoonThreshold,
    };
    const errors: FieldErrors = {};
    if (changes.title !== undefined && !changes.title.trim()) errors.title = ['This field may not be blank.'];
    if (changes.location !== undefined && !changes.location.trim()) errors.location = ['This field may not be blank.'];
    // Resending the current start (PUT of an unchanged past event) is fine; moving it into the past is not.
    if (next.dateTime.getTime() !== event.dateTime.getTime() && next.dateTime <= now) errors.date_time = [FUTURE];
    if (next.capacity < event.registeredCount) {
      errors.capacity = [`Ensure this value is at least the ${event.registeredCount} seats already registered.`];
    }
    crossFieldProblems(next, errors);
    const categoryError = await categoryProblem(tx, changes.category);
    if (categoryError) errors.category = [categoryError];
    if (Object.keys(errors).length) throw new ValidationError(errors);

    const updated = await repo.updateEventRow(tx, id, {
      title: changes.title?.trim(),
      description: changes.description,
      location: changes.location?.trim(),
      dateTime: next.dateTime,
      endTime: next.endTime,
      capacity: next.capacity,
      sellsOffSoonThreshold: next.threshold,
      categoryId: changes.category,
      isRecurring: changes.is_recurring,
      isActive: changes.is_active,
      updatedAt: now,
    });
    await notifyEventChanged(
      tx,
      updated,
      { dateTime: { from: event.dateTime, to: updated.dateTime }, location: { from: event.location, to: updated.location } },
      now,
    );
    await queueWebhooks(tx, id, [eventUpdatedItem(updated)], now);
    await announceEventActivity(tx, [id]);
    // Still under the row lock, so no new registration can take the added seats before the waiting list does.
    if (updated.capacity > event.capacity && (await capacityChanged(tx, updated, now))) {
      return (await repo.findEventById(tx, id))!;
    }
    return updated;
  });
}

/**
 * DELETE cancels instead of erasing: the event becomes cancelled for good (unlike unpublishing) and stays visible
 * to its organizer, staff and (through their registrations) its registrants. Cancelling twice changes nothing.
 */
export async function cancelEvent(db: Db, actor: AuthUser, id: string, now: Date): Promise<void> {
  await db.transaction(async (tx) => {
    const event = await lockEventSeats(tx, id);
    assertVisible(actor, event);
    if (!canManageEvent(actor, event)) throw forbidden();
    if (event.cancelledAt) return;
    // Still under the row lock: every live registration is cancelled and its holder told, in this transaction.
    const cancelled = await cancelAllForEvent(tx, id, now);
    await repo.updateEventRow(tx, id, { isActive: false, cancelledAt: now, updatedAt: now });
    await queueWebhooks(tx, id, [eventCancelledItem(event, cancelled)], now);
    await announceEventActivity(tx, [id]);
    // An organizer cancelling their own event is theirs to do; staff stepping in is recorded.
    if (actor.isStaff && actor.id !== event.organizerId) {
      await recordStaffAction(
        tx,
        actor,
        {
          action: 'event.cancel',
          targetType: 'event',
          targetId: id,
          before: { status: eventStatus(event), title: event.title },
          after: { status: 'cancelled', registrations_cancelled: cancelled },
        },
        now,
      );
    }
  });
}

/**
 * Staff: unpublish (deactivate) or publish again (reactivate) any event, recorded in the audit log. The same
 * reversible switch as `is_active` on PATCH: registrations are kept. A cancelled event stays cancelled (409).
 */
export async function setEventPublished(db: Db, actor: AuthUser, id: string, published: boolean, now: Date): Promise<EventRow> {
  if (!actor.isStaff) throw forbidden();
  return db.transaction(async (tx) => {
    const event = await lockEventSeats(tx, id);
    if (!event) throw notFound();
    if (event.cancelledAt) {
      throw new ApiError(
        409,
        published ? 'A cancelled event cannot be published again.' : 'A cancelled event cannot be edited.',
        'event_cancelled',
      );
    }
    if (event.isActive === published) return event;
    const updated = await repo.updateEventRow(tx, id, { isActive: published, updatedAt: now });
    await recordStaffAction(
      tx,
      actor,
      {
        action: published ? 'event.reactivate' : 'event.deactivate',
        targetType: 'event',
        targetId: id,
        before: { is_active: event.isActive, title: event.title },
        after: { is_active: published },
      },
      now,
    );
    await announceEventActivity(tx, [id]);
    return updated;
  });
}

const INVALID_DATE = 'Enter a valid date (YYYY-MM-DD) or datetime (ISO 8601, e.g. 2030-08-01T09:00:00Z).';
const DAY_MS = 24 * 3600 * 1000;

/**
 * Reads a date or datetime filter. A "+" in an offset arrives as a space when the client did not encode it, so a
 * space before the offset is read as "+". A datetime without an offset is UTC.
 */
export function parseDateFilter(field: string, raw: string): { at: Date; isDay: boolean } {
  const value = raw.trim();
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const dateTime = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+\- ]\d{2}:?\d{2})?$/i.exec(value);
  const parts = day ?? dateTime;
  if (!parts) throw ValidationError.field(field, INVALID_DATE);
  const [year, month, date] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const calendarDay = new Date(Date.UTC(year, month - 1, date));
  if (calendarDay.getUTCFullYear() !== year || calendarDay.getUTCMonth() !== month - 1 || calendarDay.getUTCDate() !== date) {
    throw ValidationError.field(field, INVALID_DATE);
  }
  if (day) return { at: calendarDay, isDay: true };
  let offset = (dateTime![5] ?? 'Z').toUpperCase().replace(/^ /, '+');
  if (/^[+-]\d{4}$/.test(offset)) offset = `${offset.slice(0, 3)}:${offset.slice(3)}`;
  const [hours, minutes] = dateTime![4]!.split(':').map(Number) as [number, number];
  const at = new Date(`${parts[1]}-${parts[2]}-${parts[3]}T${dateTime![4]}${offset}`);
  if (hours > 23 || minutes > 59 || !isStorableInstant(at)) throw ValidationError.field(field, INVALID_DATE);
  return { at, isDay: false };
}

/** Turns the public list's query into a filter (a category slug is looked up by the list's statement). */
function eventFilter(query: EventListQuery, now: Date): EventFilter {
  const filter: EventFilter = { activeOnly: true };
  if (!query.include_past) filter.from = now;
  if (query.date_from !== undefined) {
    const { at } = parseDateFilter('date_from', query.date_from);
    if (!filter.from || at > filter.from) filter.from = at;
  }
  if (query.date_to !== undefined) {
    const { at, isDay } = parseDateFilter('date_to', query.date_to);
    if (query.date_from !== undefined && at < parseDateFilter('date_from', query.date_from).at) {
      throw ValidationError.field('date_to', 'Must not be before date_from.');
    }
    // The day after 9999-12-31 is past every instant an event can have: no upper bound at all.
    const dayAfter = new Date(at.getTime() + DAY_MS);
    if (!isDay) filter.toInclusive = at;
    else if (isStorableInstant(dayAfter)) filter.toExclusive = dayAfter;
  }
  if (query.search?.trim()) filter.search = query.search.trim();
  if (query.location?.trim()) filter.location = query.location.trim();
  if (query.category !== undefined) {
    const value = query.category.trim();
    if (UUID.test(value)) filter.categoryId = value.toLowerCase();
    // The list's own statement looks the slug up: no round trip of its own, and an unknown slug matches nothing.
    else if (SLUG.test(value.toLowerCase())) filter.categorySlug = value.toLowerCase();
    else throw ValidationError.field('category', 'Enter a category id or slug.');
  }
  filter.organizerId = query.organizer;
  filter.sellingOutSoon = query.is_selling_out_soon;
  filter.hasSeats = query.has_seats;
  filter.fromIsNow = filter.from === now;
  return filter;
}

/**
 * Totals of recent list queries by their filters. Counting every matching row costs far more than reading one
 * page (70 ms against 8 ms over 90,000 upcoming events), so a total may be reused for a couple of seconds.
 *
 * While a total is being counted, the other requests with the same filters wait for it instead of counting too: when
 * a popular list's total expired, every request in flight counted it at once (84 counts of 33 ms in 5 s of the bench's
 * signed-in 100-event list, more than half of PostgreSQL's time; issue 18).
 */
export class ListCountCache {
  private readonly cache: LRUCache<string, number> | undefined;
  private readonly counting = new Map<string, Promise<number | undefined>>();
  constructor(ttlSeconds: number, clock: Clock) {
    if (ttlSeconds > 0) {
      this.cache = new LRUCache({ max: 1_000, ttl: ttlSeconds * 1000, ttlResolution: 0, perf: { now: () => clock.now().getTime() } });
    }
  }
  get(key: string): number | undefined {
    return this.cache?.get(key);
  }
  /** The total another request is counting for `key` (undefined if none is, or its count failed). */
  inFlight(key: string): Promise<number | undefined> | undefined {
    return this.counting.get(key);
  }
  /** Records `total`, being counted now, and keeps it once counted. */
  track(key: string, total: Promise<number>): void {
    if (!this.cache || this.counting.has(key)) return;
    const settled = total.then(
      (value) => {
        this.cache!.set(key, value);
        return value;
      },
      () => undefined,
    );
    this.counting.set(key, settled);
    void settled.finally(() => this.counting.delete(key));
  }
}

/** The public list, a page at a time: the total, and the events already written as JSON text (events.present.ts). */
export async function listEvents(
  db: Db,
  query: EventListQuery,
  page: { limit: number; offset: number },
  now: Date,
  counts?: ListCountCache,
): Promise<PageJson> {
  const filter = eventFilter(query, now);
  const ordering = query.ordering ?? 'date_time';
  // Its total comes exact with the page: nothing to count, nothing to remember.
  const fromWords = await repo.listEventsJsonFromMemory(db, filter, ordering, page.limit, page.offset);
  if (fromWords) return fromWords;
  // The filters, not "now": a total may lag by the cache's lifetime, never mix two filters.
  const { page: _page, page_size: _pageSize, ordering: _ordering, ...filters } = query;
  const key = JSON.stringify(filters);
  let cachedTotal = counts?.get(key);
  if (cachedTotal === undefined) {
    const counting = counts?.inFlight(key);
    if (counting) cachedTotal = await counting;
  }
  const fromSql = { fromMemory: false };
  if (cachedTotal !== undefined) return repo.listEventsJson(db, filter, ordering, page.limit, page.offset, cachedTotal, fromSql);
  const listing = repo.listEventsJson(db, filter, ordering, page.limit, page.offset, undefined, fromSql);
  counts?.track(
    key,
    listing.then((result) => result.total),
  );
  return listing;
}

/** One event as its page shows it, already written as JSON text; a 404 for whoever may not see it. */
export async function getVisibleEventJson(db: Db, actor: AuthUser | null, id: string): Promise<string> {
  const event = await repo.findEventJsonById(db, id);
  if (!event || !canReadEvent(actor, event)) throw notFound();
  return event.json;
}

/**
 * Staff: every organizer's events with the public list's filters, where `include_past` and `is_active` (unset:
 * active and cancelled alike) widen what the public sees.
 */
export async function listAllEvents(
  db: Db,
  actor: AuthUser,
  query: EventListQuery & { is_active?: boolean },
  page: { limit: number; offset: number },
  now: Date,
): Promise<PageJson> {
  if (!actor.isStaff) throw forbidden();
  const filter = eventFilter(query, now);
  filter.activeOnly = undefined;
  filter.isActive = query.is_active;
  return repo.listEventsJson(db, filter, query.ordering ?? 'date_time', page.limit, page.offset);
}

/** The caller's own events, past and cancelled ones included. */
export async function listMyEvents(
  db: Db,
  actor: AuthUser,
  query: Pick<MyEventsQuery, 'ordering' | 'show'>,
  page: { limit: number; offset: number },
  now: Date,
): Promise<PageJson> {
  const shown: Record<NonNullable<MyEventsQuery['show']>, EventFilter> = {
    upcoming: { isActive: true, from: now },
    past: { isActive: true, toExclusive: now },
    inactive: { isActive: false },
  };
  const filter = { organizerId: actor.id, ...(query.show ? shown[query.show] : {}) };
  return repo.listEventsJson(db, filter, query.ordering ?? '-date_time', page.limit, page.offset);
}

/**
 * An event's numbers for its organizer or staff: seats, waiting list, check-ins and orders per day. Anyone else
 * gets what they would get for the event itself: 404 when they cannot see it, 403 when they can but not manage it.
 */
export async function getEventStats(db: Db, actor: AuthUser, id: string): Promise<EventStats> {
  const event = await getVisibleEvent(db, actor, id);
  if (!canManageEvent(actor, event)) throw forbidden('Only the event organizer or staff can see its numbers.');
  const [checkedIn, perDay] = await Promise.all([countCheckedIn(db, id), registrationsPerDay(db, id)]);
  return {
    event: event.id,
    capacity: event.capacity,
    registered_count: event.registeredCount,
    waitlist_count: event.waitlistCount,
    tickets_remaining: freeSeats(event),
    checked_in_count: checkedIn,
    registrations_over_time: perDay,
  };
}

export const findEventById = repo.findEventById;
export const countEventsByOrganizer = repo.countByOrganizer;
