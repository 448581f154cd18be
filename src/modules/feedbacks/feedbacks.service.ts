import type { Db } from '../../db/client.js';
import { ApiError, ValidationError, forbidden, isUniqueViolation, notFound } from '../../lib/errors.js';
import { canDeleteFeedback, canEditFeedback } from '../../lib/access.js';
import type { AuthUser } from '../../plugins/auth.js';
import { recordStaffAction } from '../audit/audit.service.js';
import { feedbackItem, queueWebhooks } from '../webhooks/webhooks.service.js';
import * as repo from './feedbacks.repository.js';
import type { FeedbackFilters, FeedbackRow } from './feedbacks.repository.js';

export type { FeedbackRow };

const notRegistered = () =>
  new ApiError(
    403,
    'Only attendees with a registered (not waitlisted or cancelled) registration for this event can leave feedback.',
    'not_registered',
  );
const alreadyLeft = () => ValidationError.field('non_field_errors', 'You have already left feedback for this event.');

/** An event's average rating to one decimal, or null before any feedback: the event's `rating_average`. */
export function ratingAverage(ratingSum: number, ratingCount: number): number | null {
  return ratingCount > 0 ? Math.round((ratingSum * 10) / ratingCount) / 10 : null;
}

/**
 * Feedback from an attendee: the event must exist and be active, the author must hold a `registered`
 * registration, and the event must have started (ended, when it has an end_time). The event's rating totals
 * move in the same transaction. One per user and event, enforced by the unique index, so two racing requests
 * end as one 201 and one 400.
 */
export async function createFeedback(
  db: Db,
  userId: string,
  input: { event: string; rating: number; comment?: string },
  now: Date,
): Promise<FeedbackRow> {
  try {
    return await db.transaction(async (tx) => {
      const event = await repo.findEvent(tx, input.event);
      if (!event) throw ValidationError.field('event', `Invalid pk "${input.event}" - object does not exist.`);
      if (event.cancelledAt) throw ValidationError.field('event', 'This event has been cancelled.');
      if (!(await repo.hasRegisteredRegistration(tx, userId, event.id))) throw notRegistered();
      const opensAt = event.endTime ?? event.dateTime;
      if (now.getTime() < opensAt.getTime()) {
        throw ValidationError.field(
          'non_field_errors',
          event.endTime ? 'You can leave feedback once the event has ended.' : 'You can leave feedback once the event has started.',
        );
      }
      const row = await repo.insertFeedback(tx, {
        userId,
        eventId: event.id,
        rating: input.rating,
        comment: input.comment ?? '',
        createdAt: now,
        updatedAt: now,
      });
      await repo.adjustEventRating(tx, event.id, input.rating, 1);
      await queueWebhooks(tx, event.id, [feedbackItem(event, row)], now);
      return row;
    });
  } catch (err) {
    if (isUniqueViolation(err, 'feedbacks_user_event_key')) throw alreadyLeft();
    throw err;
  }
}

export async function getFeedback(db: Db, id: string): Promise<FeedbackRow> {
  const row = await repo.findFeedback(db, id);
  if (!row) throw notFound();
  return row;
}

export async function listFeedbacks(db: Db, filters: FeedbackFilters, limit: number, offset: number) {
  return repo.listFeedbacks(db, filters, limit, offset);
}

/** The author edits rating and/or comment; the event's rating sum follows the change of rating. */
export async function updateFeedback(
  db: Db,
  actor: Pick<AuthUser, 'id'>,
  id: string,
  changes: { rating?: number; comment?: string },
  now: Date,
): Promise<FeedbackRow> {
  return db.transaction(async (tx) => {
    const current = await repo.findFeedbackForUpdate(tx, id);
    if (!current) throw notFound();
    if (!canEditFeedback(actor, current)) throw forbidden('Only the author can edit this feedback.');
    const rating = changes.rating ?? current.rating;
    const row = await repo.updateFeedback(tx, id, { rating, comment: changes.comment ?? current.comment, updatedAt: now });
    if (rating !== current.rating) await repo.adjustEventRating(tx, current.eventId, rating - current.rating, 0);
    return row;
  });
}

/**
 * The author deletes their feedback; staff may delete any (moderation, recorded in the audit log). The event's
 * totals drop it.
 */
export async function deleteFeedback(db: Db, actor: AuthUser, id: string, now: Date): Promise<void> {
  await db.transaction(async (tx) => {
    const current = await repo.findFeedbackForUpdate(tx, id);
    if (!current) throw notFound();
    if (!canDeleteFeedback(actor, current)) throw forbidden('Only the author or staff can delete this feedback.');
    const moderating = current.userId !== actor.id;
    await repo.deleteFeedback(tx, id);
    await repo.adjustEventRating(tx, current.eventId, -current.rating, -1);
    if (moderating) {
      const before = { event: current.eventId, user: current.userId, rating: current.rating, comment: current.comment };
      await recordStaffAction(tx, actor, { action: 'feedback.delete', targetType: 'feedback', targetId: id, before, after: null }, now);
    }
  });
}

/** Staff: feedback across events, newest first, with each one's event title and author for moderation. */
export async function listForModeration(db: Db, actor: AuthUser, filters: FeedbackFilters, limit: number, offset: number) {
  if (!actor.isStaff) throw forbidden();
  return repo.listFeedbacksWithContext(db, filters, limit, offset);
}

export const countFeedbacksByUser = repo.countByUser;
