import { ApiError } from '../../lib/errors.js';
import type { FastifyBaseLogger } from 'fastify';
import pg from 'pg';
import type { Database } from '../../db/client.js';
import { EVENT_ACTIVITY_CHANNEL, NOTIFICATIONS_CHANNEL } from './notifications.repository.js';
import { notificationsByIds, type NotificationRow } from './notifications.service.js';

/** One open stream, as the hub sees it. */
export interface LiveSubscriber {
  userId: string;
  /** New notifications of this user, oldest first, once their transaction committed. */
  deliver(rows: NotificationRow[]): void;
  /** Something changed at an event this subscriber organizes (or any event, with `allEvents`), once committed. */
  activity?(eventId: string): void;
  /** Staff: hear of activity at every event, not only their own. */
  allEvents?: boolean;
  /** The database listener reconnected; messages sent meanwhile are lost, so re-read from your position. */
  resync(): void;
  /** The process is shutting down: end the stream (the client reconnects elsewhere with Last-Event-ID). */
  close(): void;
}

interface Listener {
  stop(): Promise<void>;
}

type ChannelHandlers = Record<string, (payload: string | undefined) => void>;

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;
const FETCH_BATCH = 500;

/**
 * Fans notifications out to the streams open in this process. Whatever process (or transaction) creates a
 * notification announces it with pg_notify; every process LISTENs on one dedicated connection (PGlite:
 * in-process), fetches the rows its own subscribers need once, and hands them over.
 * The listener starts with the first subscriber, so processes without streams hold no extra connection.
 */
export class NotificationHub {
  private readonly subscribers = new Map<string, Set<LiveSubscriber>>();
  /** Subscribers that hear of activity at every event (staff). */
  private readonly allEventWatchers = new Set<LiveSubscriber>();
  private listener?: Promise<Listener>;
  private readonly pending = new Set<string>();
  private flushing?: Promise<void>;
  private closed = false;

  constructor(
    private readonly database: Database,
    private readonly log: FastifyBaseLogger,
    /** Streams one user may hold open in this process; one more is refused (429) until one closes. */
    private readonly maxPerUser = Number.POSITIVE_INFINITY,
  ) {}

  get subscriberCount(): number {
    let total = 0;
    for (const set of this.subscribers.values()) total += set.size;
    return total;
  }

  /** Registers a stream; resolves once the listener is active, so anything committed afterwards reaches it. */
  async subscribe(subscriber: LiveSubscriber): Promise<() => void> {
    if (this.closed) throw new Error('The notification hub is closed.');
    let set = this.subscribers.get(subscriber.userId);
    // One user's streams cost every other user latency (each holds a socket, a heartbeat and a fan-out slot), so
    // they are capped. The new one is refused rather than the oldest closed: a closed EventSource reconnects by
    // itself, and two tabs over the cap would then take turns closing each other for ever.
    if (set && set.size >= this.maxPerUser) {
      throw new ApiError(429, `You already have ${this.maxPerUser} notification streams open; close one first.`, 'too_many_streams');
    }
    if (!set) this.subscribers.set(subscriber.userId, (set = new Set()));
    set.add(subscriber);
    if (subscriber.allEvents) this.allEventWatchers.add(subscriber);
    const unsubscribe = () => {
      set.delete(subscriber);
      this.allEventWatchers.delete(subscriber);
      if (set.size === 0 && this.subscribers.get(subscriber.userId) === set) this.subscribers.delete(subscriber.userId);
    };
    try {
      await this.ensureListening();
    } catch (err) {
      unsubscribe();
      throw err;
    }
    return unsubscribe;
  }

  /** Ends every open stream and stops listening. */
  async close(): Promise<void> {
    this.closed = true;
    for (const set of this.subscribers.values()) for (const subscriber of set) subscriber.close();
    this.subscribers.clear();
    this.allEventWatchers.clear();
    const listener = this.listener;
    this.listener = undefined;
    if (listener) await listener.then((l) => l.stop()).catch(() => {});
    await this.flushing;
  }

  private ensureListening(): Promise<Listener> {
    this.listener ??= this.startListener().catch((err) => {
      this.listener = undefined;
      throw err;
    });
    return this.listener;
  }

  private startListener(): Promise<Listener> {
    const handlers: ChannelHandlers = {
      [NOTIFICATIONS_CHANNEL]: (payload) => this.onMessage(payload),
      [EVENT_ACTIVITY_CHANNEL]: (payload) => this.onActivity(payload),
    };
    if (this.database.pglite) {
      const pglite = this.database.pglite;
      return Promise.all(Object.entries(handlers).map(([channel, handler]) => pglite.listen(channel, handler))).then((unlistens) => ({
        stop: async () => {
          await Promise.all(unlistens.map((unlisten) => unlisten()));
        },
      }));
    }
    if (!this.database.pool) throw new Error('No database connection to listen on.');
    return PgListener.start(this.database.pool.options, handlers, () => this.onReconnect(), this.log);
  }

  /** `<organizer_id>:<event_id>`: told to the organizer's streams and to those watching every event. */
  private onActivity(payload: string | undefined): void {
    const [organizerId, eventId] = (payload ?? '').split(':');
    if (!organizerId || !eventId) return;
    const told = new Set<LiveSubscriber>();
    for (const subscriber of [...(this.subscribers.get(organizerId) ?? []), ...this.allEventWatchers]) {
      if (told.has(subscriber)) continue;
      told.add(subscriber);
      subscriber.activity?.(eventId);
    }
  }

  private onMessage(payload: string | undefined): void {
    const [userId, notificationId] = (payload ?? '').split(':');
    if (!userId || !notificationId || !this.subscribers.has(userId)) return;
    this.pending.add(notificationId);
    this.flushing ??= this.flush().finally(() => {
      this.flushing = undefined;
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.size > 0) {
      const ids = [...this.pending].slice(0, FETCH_BATCH);
      for (const id of ids) this.pending.delete(id);
      let rows: NotificationRow[];
      try {
        rows = await notificationsByIds(this.database.db, ids);
      } catch (err) {
        this.log.error({ err }, 'could not read notifications for live streams; telling streams to resync');
        this.onReconnect();
        continue;
      }
      const byUser = new Map<string, NotificationRow[]>();
      for (const row of rows) {
        const list = byUser.get(row.userId) ?? [];
        list.push(row);
        byUser.set(row.userId, list);
      }
      for (const [userId, list] of byUser) {
        for (const subscriber of this.subscribers.get(userId) ?? []) subscriber.deliver(list);
      }
    }
  }

  private onReconnect(): void {
    for (const set of this.subscribers.values()) for (const subscriber of set) subscriber.resync();
  }
}

/** LISTEN on a dedicated PostgreSQL connection (a pooled one would be handed to queries), reconnecting on loss. */
class PgListener implements Listener {
  private client?: pg.Client;
  private stopped = false;
  private retryTimer?: NodeJS.Timeout;
  private delay = RECONNECT_MIN_MS;

  private constructor(
    private readonly options: pg.ClientConfig,
    private readonly handlers: ChannelHandlers,
    private readonly onReconnect: () => void,
    private readonly log: FastifyBaseLogger,
  ) {}

  static async start(
    options: pg.ClientConfig,
    handlers: ChannelHandlers,
    onReconnect: () => void,
    log: FastifyBaseLogger,
  ): Promise<PgListener> {
    const listener = new PgListener(options, handlers, onReconnect, log);
    await listener.connect();
    return listener;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.options);
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      client.removeAllListeners('notification');
      client.end().catch(() => {});
      if (this.stopped) return;
      this.log.warn({ err }, 'notification listener lost its connection; reconnecting');
      this.scheduleReconnect();
    };
    client.on('notification', (message) => {
      this.handlers[message.channel]?.(message.payload);
    });
    client.on('error', onLost);
    client.on('end', () => onLost());
    try {
      await client.connect();
      for (const channel of Object.keys(this.handlers)) await client.query(`LISTEN ${channel}`);
    } catch (err) {
      lost = true;
      client.removeAllListeners();
      client.on('error', () => {});
      await client.end().catch(() => {});
      throw err;
    }
    if (this.stopped) {
      lost = true;
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
  }

  private scheduleReconnect(): void {
    this.retryTimer = setTimeout(() => {
      this.connect().then(
        () => {
          this.delay = RECONNECT_MIN_MS;
          this.log.info('notification listener reconnected');
          this.onReconnect();
        },
        (err) => {
          this.delay = Math.min(this.delay * 2, RECONNECT_MAX_MS);
          this.log.warn({ err }, 'notification listener could not reconnect yet');
          if (!this.stopped) this.scheduleReconnect();
        },
      );
    }, this.delay);
    this.retryTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => {});
  }
}
