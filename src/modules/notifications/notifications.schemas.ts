import { Type } from 'typebox';
import { notificationKinds } from '../../db/schema.js';
import { PaginationQuery } from '../../lib/pagination.js';
import { DateTime, Uuid } from '../../lib/schemas.js';
import type { NotificationRow } from './notifications.repository.js';

export const Notification = Type.Object({
  id: Uuid(),
  user: Uuid(),
  event: Type.Union([Uuid(), Type.Null()]),
  kind: Type.Union(
    notificationKinds.map((kind) => Type.Literal(kind)),
    { description: 'What happened.' },
  ),
  message: Type.String(),
  is_read: Type.Boolean(),
  created_at: DateTime(),
});

export const NotificationListQuery = Type.Object({
  ...PaginationQuery,
  is_read: Type.Optional(Type.Boolean({ description: 'Only read (true) or unread (false) notifications.' })),
});

export const UnreadCount = Type.Object({ unread_count: Type.Integer() });
export const MarkAllResult = Type.Object({ updated: Type.Integer({ description: 'How many were unread.' }) });

export const StreamTicket = Type.Object({
  ticket: Type.String({ description: 'Pass as `?ticket=` to GET /notifications/stream/ within 60 seconds; works once.' }),
  expires_at: DateTime(),
});

export const StreamQuery = Type.Object({
  ticket: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  last_event_id: Type.Optional(
    Type.String({ maxLength: 100, description: 'Same as the Last-Event-ID header, for clients that cannot set it.' }),
  ),
});

export function toNotificationResponse(row: NotificationRow) {
  return {
    id: row.id,
    user: row.userId,
    event: row.eventId,
    kind: row.kind,
    message: row.message,
    is_read: row.isRead,
    created_at: row.createdAt.toISOString(),
  };
}
