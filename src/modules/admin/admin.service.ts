import type { Database, Db } from '../../db/client.js';
import { forbidden } from '../../lib/errors.js';
import { checkIntegrity } from '../../lib/integrity.js';
import { API_VERSION } from '../../lib/version.js';
import type { AuthUser } from '../../plugins/auth.js';
import { countEventsByOrganizer } from '../events/events.service.js';
import { countFeedbacksByUser } from '../feedbacks/feedbacks.service.js';
import { listPendingJobs } from '../jobs/jobs.service.js';
import { countRegistrationsByUser } from '../registrations/registrations.service.js';
import { getUser, type UserRow } from '../users/users.service.js';
import * as repo from './admin.repository.js';

export function assertStaff(actor: AuthUser): void {
  if (!actor.isStaff) throw forbidden();
}

export async function userWithCounts(
  db: Db,
  actor: AuthUser,
  id: string,
): Promise<{ user: UserRow; counts: { registrations: number; events: number; feedbacks: number } }> {
  assertStaff(actor);
  const user = await getUser(db, id);
  const [registrations, events, feedbacks] = await Promise.all([
    countRegistrationsByUser(db, id),
    countEventsByOrganizer(db, id),
    countFeedbacksByUser(db, id),
  ]);
  return { user, counts: { registrations, events, feedbacks } };
}

export async function systemStatus(database: Database, actor: AuthUser) {
  assertStaff(actor);
  const [counts, pending] = await Promise.all([repo.countRows(database.db), listPendingJobs(database.db, 20)]);
  return {
    version: API_VERSION,
    database: database.kind === 'pglite' ? ('embedded' as const) : ('postgresql' as const),
    counts,
    pending_jobs: {
      count: pending.total,
      next: pending.rows.map((job) => ({
        id: job.id,
        kind: job.kind,
        run_at: job.runAt.toISOString(),
        attempts: job.attempts,
        last_error: job.lastError,
      })),
    },
  };
}

/** Runs lib/integrity.ts on the live database (read-only) for a staff user who asked for it. */
export async function runIntegrityCheck(db: Db, actor: AuthUser, now: Date) {
  assertStaff(actor);
  const report = await checkIntegrity(db);
  return { ok: report.problems.length === 0, checked_at: now.toISOString(), problems: report.problems };
}
