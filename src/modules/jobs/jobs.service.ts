import type { Db } from '../../db/client.js';
import * as repo from './jobs.repository.js';
import type { JobRow, NewJob } from './jobs.repository.js';

export type { JobRow };

/**
 * What a handler decided: `done` (the work happened), `dropped` (too late or pointless; recorded so it is not
 * scheduled again) or `discard` (not due after all, e.g. the event moved later: the row is removed so its
 * scheduler can add it again at the right time).
 */
export type JobOutcome = 'done' | 'dropped' | 'discard';

/** Runs inside the transaction that holds the job's lock; its writes commit together with the job's new state. */
export type JobHandler = (tx: Db, job: JobRow, now: Date) => Promise<JobOutcome>;

export interface JobRunSummary {
  done: number;
  dropped: number;
  discard: number;
  failed: number;
}

export const MAX_JOB_ATTEMPTS = 8;
const RETRY_BASE_MS = 60_000;
const RETRY_MAX_MS = 3_600_000;

export async function scheduleJobs(db: Db, values: Pick<NewJob, 'key' | 'kind' | 'payload' | 'runAt'>[], now: Date): Promise<number> {
  return repo.insertJobs(
    db,
    values.map((value) => ({ ...value, createdAt: now, updatedAt: now })),
  );
}

/**
 * Claims and handles due jobs one transaction each, until none is due or `limit` ran. A failing handler rolls
 * back its own work; the job is retried later with exponential backoff, and marked failed after MAX_JOB_ATTEMPTS.
 */
export async function runClaimedJobs(db: Db, now: Date, handlers: Record<string, JobHandler>, limit: number): Promise<JobRunSummary> {
  const summary: JobRunSummary = { done: 0, dropped: 0, discard: 0, failed: 0 };
  for (let i = 0; i < limit; i++) {
    let claimed: JobRow | undefined;
    try {
      const outcome = await db.transaction(async (tx) => {
        const job = await repo.claimDueJob(tx, now);
        if (!job) return undefined;
        claimed = job;
        const handler = handlers[job.kind];
        if (!handler) throw new Error(`No handler for job kind "${job.kind}".`);
        const result = await handler(tx, job, now);
        if (result === 'discard') await repo.deleteJob(tx, job.id);
        else await repo.finishJob(tx, job.id, result, now);
        return result;
      });
      if (!outcome) break;
      summary[outcome]++;
    } catch (err) {
      if (!claimed) throw err;
      const attempts = claimed.attempts + 1;
      const delay = Math.min(RETRY_BASE_MS * 2 ** (attempts - 1), RETRY_MAX_MS);
      await repo.recordFailure(
        db,
        claimed.id,
        {
          attempts,
          lastError: String((err as Error)?.message ?? err).slice(0, 2_000),
          runAt: new Date(now.getTime() + delay),
          failed: attempts >= MAX_JOB_ATTEMPTS,
        },
        now,
      );
      summary.failed++;
    }
  }
  return summary;
}

export const deleteFinishedJobsBefore = repo.deleteFinishedBefore;
export const listPendingJobs = repo.listPending;
