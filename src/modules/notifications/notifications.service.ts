import type { Db } from '../../db/client.js';
import type { NotificationKind } from '../../db/schema.js';
import * as repo from './notifications.repository.js';

export interface NotificationInput {
  userId: string;
  eventId: string | null;
  kind: NotificationKind;
  message: string;
}

/**
 * Creates in-app notifications. Pass the transaction that made the change (a registration, a promotion…),
 * so the notification exists exactly when the change does.
 */
export async function notify(db: Db, items: NotificationInput | NotificationInput[], now: Date) {
  const list = Array.isArray(items) ? items : [items];
  return repo.insertNotifications(
    db,
    list.map((item) => ({ ...item, createdAt: now })),
  );
}
