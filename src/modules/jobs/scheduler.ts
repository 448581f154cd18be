import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { deleteExpiredResetTokens } from '../auth/account-mail.service.js';
import { purgeFinishedMessages } from '../outbox/outbox.service.js';
import { purgeOldDeliveries } from '../webhooks/webhooks.service.js';
import { deleteExpiredStreamTickets } from '../notifications/notifications.service.js';
import { reminderJobHandlers, scheduleDueNotifications } from '../notifications/reminders.service.js';
import { purgeExpired as purgeExpiredIdempotencyKeys } from '../idempotency/idempotency.service.js';
import { deleteFinishedJobsBefore, runClaimedJobs, type JobRunSummary } from './jobs.service.js';

/** At most this many jobs per run, so one poll cannot hold the process for long; the rest wait for the next. */
const MAX_JOBS_PER_RUN = 500;
/** Finished jobs are kept this long as the record that their work happened (longer than any scan looks back). */
const KEEP_FINISHED_JOBS_MS = 45 * 24 * 60 * 60 * 1000;

export interface DueJobsResult extends JobRunSummary {
  scheduled: number;
}

/**
 * One scheduler pass: add the jobs that became due (reminders, feedback requests), run every due job, tidy up.
 * Safe to call from any number of processes at once: each job is claimed by one of them.
 */
export async function runDueJobs(db: Db, now: Date, settings: Pick<Config, 'reminderLeadSeconds'>): Promise<DueJobsResult> {
  const scheduled = await scheduleDueNotifications(db, now, settings);
  const summary = await runClaimedJobs(db, now, reminderJobHandlers(settings), MAX_JOBS_PER_RUN);
  await deleteFinishedJobsBefore(db, new Date(now.getTime() - KEEP_FINISHED_JOBS_MS));
  await deleteExpiredStreamTickets(db, now);
  await purgeExpiredIdempotencyKeys(db, now);
  await purgeFinishedMessages(db, now);
  await purgeOldDeliveries(db, now);
  await deleteExpiredResetTokens(db, now);
  return { scheduled, ...summary };
}

/**
 * Calls runDueJobs at start (catching up with whatever came due while no process ran) and then every
 * `intervalSeconds`. Runs never overlap within a process; stop() waits for the current one.
 */
export class JobPoller {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly options: {
      db: Db;
      clock: Clock;
      settings: Pick<Config, 'reminderLeadSeconds'>;
      intervalSeconds: number;
      log: FastifyBaseLogger;
    },
  ) {}

  start(): void {
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private tick(): void {
    if (this.stopped) return;
    this.running = runDueJobs(this.options.db, this.options.clock.now(), this.options.settings)
      .then((result) => {
        if (result.scheduled || result.done || result.failed) this.options.log.info({ jobs: result }, 'scheduled jobs ran');
      })
      .catch((err) => this.options.log.error({ err }, 'scheduled jobs failed; retrying at the next poll'))
      .finally(() => {
        this.running = undefined;
        if (!this.stopped) {
          this.timer = setTimeout(() => this.tick(), this.options.intervalSeconds * 1000);
          this.timer.unref();
        }
      });
  }
}
