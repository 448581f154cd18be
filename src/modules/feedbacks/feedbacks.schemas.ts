import { Type } from 'typebox';
import { PaginationQuery } from '../../lib/pagination.js';
import { DateTime, Uuid } from '../../lib/schemas.js';
import type { FeedbackRow } from './feedbacks.repository.js';

export const MAX_COMMENT_LENGTH = 5_000;

const Rating = Type.Integer({ minimum: 1, maximum: 5, description: 'From 1 (poor) to 5 (excellent).' });
const Comment = Type.String({ maxLength: MAX_COMMENT_LENGTH });

export const Feedback = Type.Object({
  id: Uuid(),
  user: Uuid('The author.'),
  event: Uuid(),
  rating: Type.Integer(),
  comment: Type.String(),
  created_at: DateTime(),
  updated_at: DateTime(),
});

export const CreateFeedbackBody = Type.Object({
  event: Uuid(),
  rating: Rating,
  comment: Type.Optional(Comment),
});

/** PUT replaces what the author may change; `event` and `user` never change. */
export const ReplaceFeedbackBody = Type.Object({ rating: Rating, comment: Type.Optional(Comment) });
export const UpdateFeedbackBody = Type.Object({ rating: Type.Optional(Rating), comment: Type.Optional(Comment) });

export const FeedbackListQuery = Type.Object({
  ...PaginationQuery,
  event: Type.Optional(Uuid('Only feedback on this event.')),
  user: Type.Optional(Uuid('Only feedback by this user.')),
  rating: Type.Optional(Type.Integer({ minimum: 1, maximum: 5, description: 'Only this rating.' })),
});

export function toFeedbackResponse(row: FeedbackRow) {
  return {
    id: row.id,
    user: row.userId,
    event: row.eventId,
    rating: row.rating,
    comment: row.comment,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
