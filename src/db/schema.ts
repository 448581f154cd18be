import { sql, type SQL } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  varchar,
  uuid,
} from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    email: text('email').notNull(),
    username: text('username').notNull(),
    passwordHash: text('password_hash').notNull(),
    isOrganizer: boolean('is_organizer').notNull().default(false),
    isStaff: boolean('is_staff').notNull().default(false),
    isActive: boolean('is_active').notNull().default(true),
    dateJoined: timestamp('date_joined', { withTimezone: true }).notNull().defaultNow(),
    /** When the address was proven by the link mailed to it; cleared when the email changes. */
    emailVerifiedAt: timestamp('email_verified_at', { withTimezone: true }),
  },
  (t) => [
    // Case-insensitive uniqueness: "John@x.com" and "john@x.com" are one account.
    uniqueIndex('users_email_lower_key').on(sql`lower(${t.email})`),
    uniqueIndex('users_username_lower_key').on(sql`lower(${t.username})`),
  ],
);

/** One row per issued refresh token; rotation links a family so a replayed token can revoke all of it. */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    familyId: uuid('family_id').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index('refresh_tokens_family_idx').on(t.familyId), index('refresh_tokens_user_idx').on(t.userId)],
);

export const categories = pgTable(
  'categories',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    slug: text('slug').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('categories_name_lower_key').on(sql`lower(${t.name})`), uniqueIndex('categories_slug_key').on(t.slug)],
);

export const events = pgTable(
  'events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    location: text('location').notNull(),
    dateTime: timestamp('date_time', { withTimezone: true }).notNull(),
    endTime: timestamp('end_time', { withTimezone: true }),
    capacity: integer('capacity').notNull(),
    /** Seats held by registered orders; changed only in the transaction that changes registrations. */
    registeredCount: integer('registered_count').notNull().default(0),
    /** Number of waitlisted orders, maintained like registered_count. */
    waitlistCount: integer('waitlist_count').notNull().default(0),
    sellsOffSoonThreshold: integer('event_ticket_sells_off_soon').notNull().default(0),
    /**
     * Published: listed and open to registration. False hides the event from everyone but its organizer and
     * staff (unpublished, or cancelled when cancelled_at is set); its registrations stay as they are.
     */
    isActive: boolean('is_active').notNull().default(true),
    /** Set once when the organizer cancels (DELETE): final, and is_active is false from then on. */
    cancelledAt: timestamp('cancelled_at', { withTimezone: true }),
    isRecurring: boolean('is_recurring').notNull().default(false),
    organizerId: uuid('organizer_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    categoryId: uuid('category_id').references(() => categories.id, { onDelete: 'set null' }),
    ratingSum: integer('rating_sum').notNull().default(0),
    ratingCount: integer('rating_count').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    /**
     * What `?search=` looks in: title, description and location, accents removed, one per line (so only a term
     * holding a line break could match across two of them). Stored, so a search tests one column per row instead
     * of removing the accents of three (about 18 µs a row), and one trigram index serves it.
     */
    /**
     * The event as the API's JSON (`Event`, events.present.ts), kept by PostgreSQL as the row changes: lists and the
     * event page send it as it is, so a page of 100 events costs the database an index scan and a string join, not
     * 100 JSON objects built (15 µs each). event_api_json is defined in migration 0011; test/events-json.test.ts
     * holds it equal to toEventResponse.
     */
    apiJson: text('api_json')
      .notNull()
      .generatedAlwaysAs(
        (): SQL =>
          sql`event_api_json(${events.id}, ${events.title}, ${events.description}, ${events.location}, ${events.dateTime}, ${events.endTime}, ${events.capacity}, ${events.registeredCount}, ${events.waitlistCount}, ${events.sellsOffSoonThreshold}, ${events.isActive}, ${events.cancelledAt}, ${events.isRecurring}, ${events.organizerId}, ${events.categoryId}, ${events.ratingSum}, ${events.ratingCount}, ${events.createdAt}, ${events.updatedAt})`,
      ),
    searchText: text('search_text').generatedAlwaysAs(
      (): SQL => sql`immutable_unaccent(${events.title} || chr(10) || ${events.description} || chr(10) || ${events.location})`,
    ),
  },
  (t) => [
    check('events_capacity_positive', sql`${t.capacity} > 0`),
    check('events_registered_within_capacity', sql`${t.registeredCount} >= 0 AND ${t.registeredCount} <= ${t.capacity}`),
    check('events_waitlist_nonnegative', sql`${t.waitlistCount} >= 0`),
    check('events_threshold_range', sql`${t.sellsOffSoonThreshold} >= 0 AND ${t.sellsOffSoonThreshold} <= ${t.capacity}`),
    check('events_end_after_start', sql`${t.endTime} IS NULL OR ${t.endTime} > ${t.dateTime}`),
    check('events_cancelled_unpublished', sql`${t.cancelledAt} IS NULL OR NOT ${t.isActive}`),
    // With the id, a page in date order is read in its order (an ordering ends with the id), not sorted again.
    index('events_active_date_idx').on(t.isActive, t.dateTime, t.id),
    // Reminders and feedback requests go to every event that still takes place, published or not.
    index('events_not_cancelled_date_idx')
      .on(t.dateTime)
      .where(sql`${t.cancelledAt} IS NULL`),
    index('events_organizer_idx').on(t.organizerId, t.dateTime),
    index('events_category_date_idx').on(t.categoryId, t.dateTime),
    // Search uses ILIKE on search_text and ?location= on immutable_unaccent(location) (defined with the pg_trgm and
    // unaccent extensions in migration 0001); trigram GIN indexes serve '%term%' patterns, which btree cannot.
    index('events_search_trgm_idx').using('gin', sql`${t.searchText} gin_trgm_ops`),
    index('events_location_trgm_idx').using('gin', sql`immutable_unaccent(${t.location}) gin_trgm_ops`),
    // ?ordering=created_at / title over the public list (active events) without sorting them all. No index for
    // tickets_remaining: it would change with every registration and cost seat changes their HOT updates.
    index('events_active_created_idx')
      .on(t.createdAt, t.id)
      .where(sql`${t.isActive}`),
    index('events_active_title_idx')
      .on(t.title, t.dateTime, t.id)
      .where(sql`${t.isActive}`),
  ],
);

/**
 * The words of every event's search_text (lower-cased, split at each ASCII character but letters and digits: migration
 * 0015), with the columns the public list filters and orders by, kept by PostgreSQL as events change (event_words_sync,
 * migration 0013). A search term with no such character occurs in search_text exactly when it occurs within one of
 * its words, so `?search=` finds its events here through the words that contain it (search_words) instead of testing
 * the text of every event of the category: an index-only scan of the matches instead of a trigram bitmap and a
 * recheck of each row (issue 18).
 */
export const eventWords = pgTable(
  'event_words',
  {
    eventId: uuid('event_id')
      .notNull()
      .references(() => events.id, { onDelete: 'cascade' }),
    word: text('word').notNull(),
    categoryId: uuid('category_id'),
    dateTime: timestamp('date_time', { withTimezone: true }).notNull(),
    isActive: boolean('is_active').notNull(),
  },
  (t) => [
    primaryKey({ name: 'event_words_pkey', columns: [t.eventId, t.word] }),
    // Every column a search reads, so counting and paging its matches never visits the table.
    index('event_words_lookup_idx').on(t.word, t.categoryId, t.dateTime, t.isActive, t.eventId),
  ],
);

/**
 * How many of event_words' rows each word has per category, publication and calendar month (UTC), kept by PostgreSQL
 * in the same transaction as event_words (event_word_months_sync, migration 0016). A search's count adds up the months
 * its date range covers whole and counts only the rest of its range in event_words: a dozen rows and a few days'
 * entries instead of every match (about 530 index entries for a term in a category; issue 18, s2u).
 */
export const eventWordMonths = pgTable(
  'event_word_months',
  {
    word: text('word').notNull(),
    categoryId: uuid('category_id'),
    isActive: boolean('is_active').notNull(),
    month: timestamp('month', { withTimezone: true }).notNull(),
    events: integer('events').notNull(),
  },
  (t) => [unique('event_word_months_key').on(t.word, t.categoryId, t.isActive, t.month).nullsNotDistinct()],
);

/**
 * Every word event_words has held: the vocabulary a term is looked up in ('%term%' through the trigram index). A word
 * no event holds any more is harmless (it finds nothing), so words are added, never removed.
 */
export const searchWords = pgTable('search_words', { word: text('word').primaryKey() }, (t) => [
  index('search_words_trgm_idx').using('gin', sql`${t.word} gin_trgm_ops`),
]);

/**
 * One row: a number that moves on with every committed change to what a search through event_words can find (an
 * event's text, category, date or publication, an event added or removed, a category's slug), bumped by deferred
 * triggers at commit (migration 0017). Two snapshots that read the same number see the same words, so a worker's
 * in-memory copy of them (search-index.ts) is exact for every statement that reads the number it was loaded with.
 * Seat changes do not move it.
 */
export const searchEpoch = pgTable(
  'search_epoch',
  {
    id: boolean('id').primaryKey().default(true),
    epoch: bigint('epoch', { mode: 'number' }).notNull().default(0),
  },
  (t) => [check('search_epoch_one_row', sql`${t.id}`)],
);

/**
 * What each move of search_epoch changed, one row per number (migration 0018): the event added, edited or removed, or
 * no event for a change to categories (or a TRUNCATE), which every copy must read again. A worker's copy catches up
 * by reading the rows past its number and those events' words, instead of reading every word again. The bump that
 * reaches a multiple of 1,000 deletes the rows 10,000 or more behind it; a copy further behind reads everything again.
 */
export const searchChanges = pgTable('search_changes', {
  epoch: bigint('epoch', { mode: 'number' }).primaryKey(),
  eventId: uuid('event_id'),
});

export const registrationStatuses = ['registered', 'waitlisted', 'cancelled'] as const;
export type RegistrationStatus = (typeof registrationStatuses)[number];

export const registrations = pgTable(
  'registrations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    eventId: uuid('event_id')
      .notNull()
      .references(() => events.id, { onDelete: 'cascade' }),
    quantity: integer('quantity').notNull(),
    status: text('status').$type<RegistrationStatus>().notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true }),
  },
  (t) => [
    check('registrations_quantity_positive', sql`${t.quantity} > 0`),
    check('registrations_status_valid', sql`${t.status} IN ('registered', 'waitlisted', 'cancelled')`),
    // One live order per user and event; cancelled ones are history.
    uniqueIndex('registrations_live_user_event_key')
      .on(t.userId, t.eventId)
      .where(sql`${t.status} <> 'cancelled'`),
    index('registrations_event_status_created_idx').on(t.eventId, t.status, t.createdAt),
    index('registrations_user_created_idx').on(t.userId, t.createdAt),
  ],
);

export const tickets = pgTable(
  'tickets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    registrationId: uuid('registration_id')
      .notNull()
      .references(() => registrations.id, { onDelete: 'cascade' }),
    eventId: uuid('event_id')
      .notNull()
      .references(() => events.id, { onDelete: 'cascade' }),
    seat: integer('seat').notNull(),
    code: text('code').notNull(),
    isUsed: boolean('is_used').notNull().default(false),
    usedAt: timestamp('used_at', { withTimezone: true }),
    /** Who checked it in (an organizer or staff member); null before, or once that account is deleted. */
    usedBy: uuid('used_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('tickets_code_key').on(t.code), uniqueIndex('tickets_registration_seat_key').on(t.registrationId, t.seat)],
);

export const notificationKinds = [
  'registered',
  'waitlisted',
  'promoted',
  'registration_cancelled',
  'event_updated',
  'event_cancelled',
  'event_reminder',
  'feedback_request',
  'webhook_disabled',
] as const;
export type NotificationKind = (typeof notificationKinds)[number];

export const notifications = pgTable(
  'notifications',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    eventId: uuid('event_id').references(() => events.id, { onDelete: 'set null' }),
    kind: text('kind').$type<NotificationKind>().notNull(),
    message: text('message').notNull(),
    isRead: boolean('is_read').notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [
    index('notifications_user_created_idx').on(t.userId, t.createdAt),
    index('notifications_user_unread_idx')
      .on(t.userId)
      .where(sql`NOT ${t.isRead}`),
    // Scheduled kinds are sent at most once per user and event, even if two scheduler processes race.
    uniqueIndex('notifications_scheduled_once_key')
      .on(t.userId, t.eventId, t.kind)
      .where(sql`${t.kind} IN ('event_reminder', 'feedback_request')`),
  ],
);

export const feedbacks = pgTable(
  'feedbacks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    eventId: uuid('event_id')
      .notNull()
      .references(() => events.id, { onDelete: 'cascade' }),
    rating: integer('rating').notNull(),
    comment: text('comment').notNull().default(''),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('feedbacks_rating_range', sql`${t.rating} BETWEEN 1 AND 5`),
    uniqueIndex('feedbacks_user_event_key').on(t.userId, t.eventId),
    index('feedbacks_event_created_idx').on(t.eventId, t.createdAt),
  ],
);

export const jobStatuses = ['pending', 'done', 'dropped', 'failed'] as const;
export type JobStatus = (typeof jobStatuses)[number];

/**
 * Persistent scheduled work. A job is claimed with `FOR UPDATE SKIP LOCKED` and handled in the claiming
 * transaction, so with several processes each job runs once; `key` makes scheduling idempotent.
 * Finished jobs stay (status done/dropped) as the record that the work happened.
 */
export const jobs = pgTable(
  'jobs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    key: text('key').notNull(),
    kind: text('kind').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    runAt: timestamp('run_at', { withTimezone: true }).notNull(),
    status: text('status').$type<JobStatus>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('jobs_status_valid', sql`${t.status} IN ('pending', 'done', 'dropped', 'failed')`),
    uniqueIndex('jobs_key_key').on(t.key),
    index('jobs_due_idx')
      .on(t.runAt)
      .where(sql`${t.status} = 'pending'`),
    index('jobs_finished_idx').on(t.finishedAt),
  ],
);

/** Short-lived, single-use tickets that open a notification stream (EventSource cannot send headers). */
export const streamTickets = pgTable(
  'stream_tickets',
  {
    /** SHA-256 of the ticket; the ticket itself is never stored. */
    tokenHash: text('token_hash').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('stream_tickets_expires_idx').on(t.expiresAt)],
);

export const idempotencyStatuses = ['in_progress', 'completed'] as const;
export type IdempotencyStatus = (typeof idempotencyStatuses)[number];

/**
 * One row per `Idempotency-Key` a user sent to an action (register, cancel, check-in). The row is inserted before
 * the action runs, so the primary key serializes duplicates; the response is stored when the action answers.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    /** `METHOD path sha256(body)`: the same key with another request is refused. */
    fingerprint: text('fingerprint').notNull(),
    status: text('status').$type<IdempotencyStatus>().notNull(),
    responseCode: integer('response_code'),
    responseBody: jsonb('response_body'),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ name: 'idempotency_keys_pkey', columns: [t.userId, t.key] }),
    check('idempotency_keys_status_valid', sql`${t.status} IN ('in_progress', 'completed')`),
    index('idempotency_keys_created_idx').on(t.createdAt),
  ],
);

/**
 * Login and sign-up throttle counters shared by every server process on one PostgreSQL (rate-limiter-flexible's
 * RateLimiterPostgres layout: `expire` is epoch milliseconds). The embedded database runs one process and counts
 * in memory instead.
 */
export const rateLimits = pgTable('rate_limits', {
  key: varchar('key', { length: 255 }).primaryKey(),
  points: integer('points').notNull().default(0),
  expire: bigint('expire', { mode: 'number' }),
});

export const outboxStatuses = ['pending', 'sent', 'failed', 'dropped'] as const;
export type OutboxStatus = (typeof outboxStatuses)[number];

/**
 * Side effects (mails, later webhooks) written in the same transaction as their cause and delivered in the
 * background by any process: a worker claims due rows with `FOR UPDATE SKIP LOCKED` and leases them by moving
 * `next_attempt_at` ahead (so a crashed worker's rows come due again), delivers outside any transaction, then
 * records the outcome if its `claim_token` still holds the lease. `channel` picks the deliverer.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    channel: text('channel').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    /** Optional idempotency key: a second message with the same key is not queued. */
    dedupeKey: text('dedupe_key'),
    /**
     * Optional: messages with the same key (say, one webhook endpoint) are delivered one at a time, oldest first;
     * a later one waits while an earlier one is pending (in back-off too). Other keys are never held up.
     */
    orderingKey: text('ordering_key'),
    status: text('status').$type<OutboxStatus>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** When the message is next due; while a worker holds it, the end of that worker's lease. */
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull(),
    claimToken: uuid('claim_token'),
    /** The last failure (for SMTP, the server's answer), or why the message was dropped. */
    lastError: text('last_error'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    check('outbox_status_valid', sql`${t.status} IN ('pending', 'sent', 'failed', 'dropped')`),
    uniqueIndex('outbox_dedupe_key').on(t.dedupeKey),
    index('outbox_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`${t.status} = 'pending'`),
    index('outbox_ordering_idx')
      .on(t.orderingKey, t.createdAt, t.id)
      .where(sql`${t.status} = 'pending' AND ${t.orderingKey} IS NOT NULL`),
    index('outbox_finished_idx').on(t.finishedAt),
  ],
);

/** Password reset tokens: single use, short-lived; only the SHA-256 of the token is stored. */
export const passwordResetTokens = pgTable(
  'password_reset_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('password_reset_tokens_user_idx').on(t.userId), index('password_reset_tokens_expires_idx').on(t.expiresAt)],
);

/** Which optional mails a user wants; no row means every kind is on. Confirmations are always sent. */
export const mailPreferences = pgTable('mail_preferences', {
  userId: uuid('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  reminders: boolean('reminders').notNull().default(true),
  feedbackRequests: boolean('feedback_requests').notNull().default(true),
  eventChanges: boolean('event_changes').notNull().default(true),
  updatedAt: updatedAt(),
});

/**
 * Every change a staff member makes through the API (users' roles and state, categories, events deactivated or
 * reactivated, feedback removed), written in the same transaction as the change. Append-only: a trigger (migration
 * 0008) refuses UPDATE and DELETE for everyone. No foreign key on the actor, so no cascade can ever rewrite a row;
 * the actor's email is kept as it was when they acted.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Append order, which the log is read in (several entries may share one created_at). */
    seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity().notNull(),
    actorId: uuid('actor_id').notNull(),
    actorEmail: text('actor_email').notNull(),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: uuid('target_id').notNull(),
    before: jsonb('before').$type<Record<string, unknown> | null>(),
    after: jsonb('after').$type<Record<string, unknown> | null>(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('audit_log_seq_key').on(t.seq),
    index('audit_log_created_idx').on(t.createdAt),
    index('audit_log_actor_seq_idx').on(t.actorId, t.seq),
    index('audit_log_target_seq_idx').on(t.targetId, t.seq),
  ],
);

/**
 * An organizer's webhook endpoint: deliveries of the chosen event types (for one event, or all of the owner's
 * events) go to `url`, signed per Standard Webhooks with `secret` (and, for 24 hours after a rotation, with
 * `previous_secret` too). The secrets are kept as given (`whsec_` + base64): signing needs them, not a hash.
 */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    eventTypes: text('event_types').array().notNull(),
    eventId: uuid('event_id').references(() => events.id, { onDelete: 'cascade' }),
    isActive: boolean('is_active').notNull().default(true),
    /** Why the endpoint was turned off by the server (`gone`: it answered 410; `failing`: too many failures). */
    disabledReason: text('disabled_reason'),
    secret: text('secret').notNull(),
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true }),
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('webhook_endpoints_owner_idx').on(t.ownerId), index('webhook_endpoints_event_idx').on(t.eventId)],
);

/** One delivery attempt of a webhook message (the outbox row `message_id`), as its endpoint's owner sees it. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    endpointId: uuid('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    /** The outbox message (also the `webhook-id` header); no foreign key: sent messages are purged after 45 days. */
    messageId: uuid('message_id').notNull(),
    eventType: text('event_type').notNull(),
    attemptedAt: timestamp('attempted_at', { withTimezone: true }).notNull(),
    succeeded: boolean('succeeded').notNull(),
    /** Null when no answer came (refused, timed out, address not allowed). */
    statusCode: integer('status_code'),
    durationMs: integer('duration_ms').notNull(),
    /** The first 1 KB of the answer's body. */
    responseBody: text('response_body'),
    error: text('error'),
  },
  (t) => [
    index('webhook_deliveries_endpoint_idx').on(t.endpointId, t.attemptedAt),
    index('webhook_deliveries_message_idx').on(t.messageId),
  ],
);
