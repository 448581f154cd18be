import type { Db } from '../../db/client.js';
import { forbidden } from '../../lib/errors.js';
import type { AuthUser } from '../../plugins/auth.js';
import * as repo from './audit.repository.js';
import type { AuditFilter, AuditRow } from './audit.repository.js';

export type { AuditFilter, AuditRow };

/** What a staff action did; every action name is listed here so the log's filter can offer them. */
export const auditActions = [
  'user.update',
  'category.create',
  'category.update',
  'category.delete',
  'event.cancel',
  'event.deactivate',
  'event.reactivate',
  'feedback.delete',
] as const;
export type AuditAction = (typeof auditActions)[number];
export const auditTargetTypes = ['user', 'category', 'event', 'feedback'] as const;
export type AuditTargetType = (typeof auditTargetTypes)[number];

export interface AuditEntry {
  action: AuditAction;
  targetType: AuditTargetType;
  targetId: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

/**
 * Appends one entry. Call it with the transaction that makes the change, so the change and its record commit
 * (or roll back) together.
 */
export async function recordStaffAction(tx: Db, actor: AuthUser, entry: AuditEntry, now: Date): Promise<void> {
  await repo.insertAuditRow(tx, { actorId: actor.id, actorEmail: actor.email, ...entry, createdAt: now });
}

export async function listAuditLog(db: Db, actor: AuthUser, filter: AuditFilter, limit: number, offset: number) {
  if (!actor.isStaff) throw forbidden();
  return repo.listAuditRows(db, filter, limit, offset);
}
