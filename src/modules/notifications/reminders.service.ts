import type { Db } from '../../db/client.js';
import { scheduleJobs, type JobHandler } from '../jobs/jobs.service.js';
import type { JobSource } from '../jobs/scheduler.js';
import { formatWhen, notifyRegisteredOnce } from './notifications.service.js';
import * as repo from './reminders.repository.js';
import type { EventRow } from './reminders.repository.js';

/**
 * Scheduled notifications, built on the jobs table:
 * - each poll, a scan adds a job `event_reminder:<event>` for every active event that has entered its reminder
 *   window (starts within REMINDER_LEAD), and `feedback_request:<event>` for every event that has ended;
 * - the job re-reads the event when it runs: moved later -> removed (the scan adds it again when due), started
 *   -> dropped, otherwise every registered attendee without one gets the notification.
 * No other module needs to call anything: creating, moving or cancelling an event is picked up by the scan,
 * after a restart too (a missed reminder is sent on the next poll if the event has not started).
 */

/** Events without `end_time` are taken to end this long after they start, for the feedback request. */
export const DEFAULT_EVENT_DURATION_MS = 60 * 60 * 1000;
/** Feedback requests are not sent for events that started longer ago than this (e.g. after a long outage). */
export const FEEDBACK_REQUEST_LOOKBACK_MS = 30 * 24 * 60 * 60 * 1000;
const SCAN_BATCH = 500;

export interface ReminderSettings {
  reminderLeadSeconds: number;
}

export const endsAt = (event: Pick<EventRow, 'dateTime' | 'endTime'>) =>
  event.endTime ?? new Date(event.dateTime.getTime() + DEFAULT_EVENT_DURATION_MS);

export const reminderMessage = (event: Pick<EventRow, 'title' | 'dateTime' | 'location'>) =>
  `Reminder: "${event.title}" starts on ${formatWhen(event.dateTime)} at ${event.location}.`;

export const feedbackRequestMessage = (event: Pick<EventRow, 'title'>) =>
  `How was "${event.title}"? Rate the event and leave your feedback.`;

/** Adds the jobs that have become due since the last scan (scheduleJobs skips keys it already has); returns how many. */
export async function scheduleDueNotifications(db: Db, now: Date, settings: ReminderSettings): Promise<number> {
  const leadMs = settings.reminderLeadSeconds * 1000;
  let added = 0;
  for (let after: string | undefined; ;) {
    const due = await repo.findEventsDueForReminder(db, now, leadMs, after, SCAN_BATCH);
    added += await scheduleJobs(
      db,
      due.map((event) => ({
        key: `event_reminder:${event.id}`,
        kind: 'event_reminder',
        payload: { eventId: event.id },
        runAt: new Date(event.dateTime.getTime() - leadMs),
      })),
      now,
    );
    if (due.length < SCAN_BATCH) break;
    after = due.at(-1)!.id;
  }
  for (let after: string | undefined; ;) {
    const ended = await repo.findEventsDueForFeedbackRequest(
      db,
      now,
      DEFAULT_EVENT_DURATION_MS,
      FEEDBACK_REQUEST_LOOKBACK_MS,
      after,
      SCAN_BATCH,
    );
    added += await scheduleJobs(
      db,
      ended.map((event) => ({
        key: `feedback_request:${event.id}`,
        kind: 'feedback_request',
        payload: { eventId: event.id },
        runAt: endsAt(event),
      })),
      now,
    );
    if (ended.length < SCAN_BATCH) break;
    after = ended.at(-1)!.id;
  }
  return added;
}

const eventIdOf = (payload: Record<string, unknown>) => String(payload.eventId);

export function reminderJobHandlers(settings: ReminderSettings): Record<string, JobHandler> {
  const leadMs = settings.reminderLeadSeconds * 1000;
  return {
    event_reminder: async (tx, job, now) => {
      const event = await repo.findEventForJob(tx, eventIdOf(job.payload));
      if (!event || event.cancelledAt) return 'discard';
      if (event.dateTime.getTime() <= now.getTime()) return 'dropped';
      if (event.dateTime.getTime() - leadMs > now.getTime()) return 'discard';
      await notifyRegisteredOnce(tx, event.id, 'event_reminder', reminderMessage(event), now);
      return 'done';
    },
    feedback_request: async (tx, job, now) => {
      const event = await repo.findEventForJob(tx, eventIdOf(job.payload));
      if (!event || event.cancelledAt) return 'discard';
      if (endsAt(event).getTime() > now.getTime()) return 'discard';
      await notifyRegisteredOnce(tx, event.id, 'feedback_request', feedbackRequestMessage(event), now);
      return 'done';
    },
  };
}

/** The reminders and feedback requests, as the scheduler runs them (see src/scheduled-jobs.ts). */
export const reminderJobs = (settings: ReminderSettings): JobSource => ({
  scan: (db, now) => scheduleDueNotifications(db, now, settings),
  handlers: reminderJobHandlers(settings),
});
