import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { Poller } from '../../lib/poller.js';
import { deleteFinishedJobsBefore, runClaimedJobs, type JobHandler, type JobRunSummary } from './jobs.service.js';

/** At most this many jobs per run, so one poll cannot hold the process for long; the rest wait for the next. */
const MAX_JOBS_PER_RUN = 500;
/** Finished jobs are kept this long as the record that their work happened (longer than any scan looks back). */
const KEEP_FINISHED_JOBS_MS = 45 * 24 * 60 * 60 * 1000;

/**
 * What a feature registers with the scheduler (see src/scheduled-jobs.ts, which lists them): a scan that adds the
 * jobs that became due, the handlers of its job kinds, and housekeeping to run on every pass. The scheduler owns
 * the jobs table; the features never import it back.
 */
export interface JobSource {
  /** Adds the jobs that have become due (scheduleJobs); returns how many. */
  scan?: (db: Db, now: Date) => Promise<number>;
  handlers?: Record<string, JobHandler>;
  tidy?: (db: Db, now: Date) => Promise<unknown>;
}

export interface DueJobsResult extends JobRunSummary {
  scheduled: number;
}

/**
 * One scheduler pass: every source's scan, then every due job, then the tidying. Safe to call from any number of
 * processes at once: each job is claimed by one of them.
 */
export async function runScheduler(db: Db, now: Date, sources: JobSource[]): Promise<DueJobsResult> {
  let scheduled = 0;
  for (const source of sources) if (source.scan) scheduled += await source.scan(db, now);
  const handlers = Object.assign({}, ...sources.map((source) => source.handlers ?? {})) as Record<string, JobHandler>;
  const summary = await runClaimedJobs(db, now, handlers, MAX_JOBS_PER_RUN);
  await deleteFinishedJobsBefore(db, new Date(now.getTime() - KEEP_FINISHED_JOBS_MS));
  for (const source of sources) if (source.tidy) await source.tidy(db, now);
  return { scheduled, ...summary };
}

/** Runs the scheduler at start and then every `intervalSeconds` (lib/poller.ts), logging what each pass did. */
export class SchedulerPoller extends Poller {
  constructor(options: {
    db: Db;
    clock: Clock;
    run: (db: Db, now: Date) => Promise<DueJobsResult>;
    intervalSeconds: number;
    log: FastifyBaseLogger;
  }) {
    super({
      pass: async () => {
        const result = await options.run(options.db, options.clock.now());
        if (result.scheduled || result.done || result.failed) options.log.info({ jobs: result }, 'scheduled jobs ran');
      },
      intervalMs: options.intervalSeconds * 1000,
      log: options.log,
      failure: 'scheduled jobs failed; retrying at the next poll',
    });
  }
}
