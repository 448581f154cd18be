import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
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

/**
 * Calls `run` at start (catching up with whatever came due while no process ran) and then every
 * `intervalSeconds`. Runs never overlap within a process; stop() waits for the current one.
 */
export class Poller {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly options: {
      db: Db;
      clock: Clock;
      run: (db: Db, now: Date) => Promise<DueJobsResult>;
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
    this.running = this.options
      .run(this.options.db, this.options.clock.now())
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
