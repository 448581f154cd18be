import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config.js';
import type { Db } from './db/client.js';
import type { Clock } from './lib/clock.js';
import { deleteExpiredResetTokens } from './modules/auth/account-mail.service.js';
import { purgeExpired as purgeExpiredIdempotencyKeys } from './modules/idempotency/idempotency.service.js';
import { SchedulerPoller, runScheduler, type DueJobsResult, type JobSource } from './modules/jobs/scheduler.js';
import { deleteExpiredStreamTickets } from './modules/notifications/notifications.service.js';
import { reminderJobs } from './modules/notifications/reminders.service.js';
import { purgeFinishedMessages } from './modules/outbox/outbox.service.js';
import { purgeOldDeliveries } from './modules/webhooks/webhooks.service.js';

/** Everything that runs on the scheduler, in the order of each pass: reminders and feedback requests, then tidying. */
export const jobSources = (settings: Pick<Config, 'reminderLeadSeconds'>): JobSource[] => [
  reminderJobs(settings),
  { tidy: deleteExpiredStreamTickets },
  { tidy: purgeExpiredIdempotencyKeys },
  { tidy: purgeFinishedMessages },
  { tidy: purgeOldDeliveries },
  { tidy: deleteExpiredResetTokens },
];

/** One scheduler pass over every source. */
export const runDueJobs = (db: Db, now: Date, settings: Pick<Config, 'reminderLeadSeconds'>): Promise<DueJobsResult> =>
  runScheduler(db, now, jobSources(settings));

/** Polls every source; every process may poll, each job is claimed by one of them. */
export class JobPoller extends SchedulerPoller {
  constructor(options: {
    db: Db;
    clock: Clock;
    settings: Pick<Config, 'reminderLeadSeconds'>;
    intervalSeconds: number;
    log: FastifyBaseLogger;
  }) {
    const sources = jobSources(options.settings);
    super({ ...options, run: (db, now) => runScheduler(db, now, sources) });
  }
}
