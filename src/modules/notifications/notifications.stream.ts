import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../../db/client.js';
import { isStorableInstant } from '../../lib/validation.js';
import type { NotificationHub } from './notifications.live.js';
import { toNotificationResponse } from './notifications.schemas.js';
import { notificationsAfter, type NotificationRow } from './notifications.service.js';

export interface StreamPosition {
  createdAt: Date;
  id: string;
}

/**
 * SSE ids are `<created_at epoch ms, 13 digits>-<notification uuid>`: they sort like the notifications do,
 * and a reconnecting client's Last-Event-ID says exactly where to resume.
 */
export function streamEventId(row: Pick<NotificationRow, 'createdAt' | 'id'>): string {
  return `${String(row.createdAt.getTime()).padStart(13, '0')}-${row.id}`;
}

const EVENT_ID = /^(\d{1,15})-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/** The position a Last-Event-ID names, or undefined when it is not one of ours (then nothing is replayed). */
export function parseStreamEventId(value: string | undefined): StreamPosition | undefined {
  const match = value ? EVENT_ID.exec(value.trim()) : null;
  if (!match) return undefined;
  const createdAt = new Date(Number(match[1]));
  // A position past the year 9999 (15 digits allow one) names no notification and is not a timestamp the
  // database can compare with: treated as not one of ours, like any other id we did not write.
  return isStorableInstant(createdAt) ? { createdAt, id: match[2]!.toLowerCase() } : undefined;
}

function after(a: StreamPosition, b: StreamPosition): boolean {
  const diff = a.createdAt.getTime() - b.createdAt.getTime();
  return diff > 0 || (diff === 0 && a.id > b.id);
}

const REPLAY_PAGE = 200;
/** A client that stops reading is cut off rather than buffered forever; it resumes with Last-Event-ID. */
const MAX_BUFFERED_BYTES = 1 << 20;
/** Ids sent recently, so a notification replayed and also delivered live is written once. */
const RECENT_IDS = 2_000;
const RETRY_MS = 3_000;

export interface StreamOptions {
  db: Db;
  hub: NotificationHub;
  userId: string;
  /** Where to resume from (Last-Event-ID); live delivery only when absent. */
  resumeFrom?: StreamPosition;
  /** Position used if the listener must resync before anything was sent: the moment the stream opened. */
  openedAt: Date;
  heartbeatMs: number;
  log: FastifyBaseLogger;
  /**
   * Organizers (and staff, `allEvents`) also hear `event: event_activity` with `data: {"event": "<id>"}` when an
   * event of theirs changes (a registration, a cancellation, a promotion, a check-in, an edit): read it again.
   */
  activity?: { allEvents: boolean };
}

/**
 * Serves one Server-Sent Events stream: subscribes first (so nothing committed from now on is missed), replays
 * what came after Last-Event-ID, then writes each new notification and a heartbeat comment every `heartbeatMs`.
 */
export async function serveNotificationStream(request: FastifyRequest, reply: FastifyReply, options: StreamOptions) {
  const { db, hub, userId, log } = options;
  const raw = reply.raw;
  const recent = new Set<string>();
  let position: StreamPosition = options.resumeFrom ?? { createdAt: options.openedAt, id: '00000000-0000-0000-0000-000000000000' };
  let live = false;
  const backlog: NotificationRow[] = [];
  let ended = false;
  let heartbeat: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;

  const end = () => {
    if (!raw.writableEnded) raw.end();
  };
  const write = (chunk: string) => {
    if (ended || raw.writableEnded || raw.destroyed) return;
    raw.write(chunk);
    if (raw.writableLength > MAX_BUFFERED_BYTES) {
      log.warn({ userId }, 'notification stream client is not reading; closing the stream');
      raw.destroy();
    }
  };
  const send = (row: NotificationRow) => {
    // The listener may hand over a notification committed just before this stream subscribed; a resuming client
    // already has everything up to its Last-Event-ID.
    if (recent.has(row.id) || (options.resumeFrom && !after(row, options.resumeFrom))) return;
    recent.add(row.id);
    if (recent.size > RECENT_IDS) recent.delete(recent.values().next().value!);
    if (after(row, position)) position = { createdAt: row.createdAt, id: row.id };
    write(`id: ${streamEventId(row)}\nevent: notification\ndata: ${JSON.stringify(toNotificationResponse(row))}\n\n`);
  };
  const replayFrom = async (from: StreamPosition) => {
    let cursor = from;
    for (;;) {
      const rows = await notificationsAfter(db, userId, cursor, REPLAY_PAGE);
      for (const row of rows) send(row);
      if (rows.length < REPLAY_PAGE || ended) return;
      const last = rows[rows.length - 1]!;
      cursor = { createdAt: last.createdAt, id: last.id };
    }
  };
  const cleanup = () => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    unsubscribe?.();
    // A client that half-closes (FIN) leaves our side open; free the socket so shutdown need not wait for it.
    if (!raw.destroyed) raw.destroy();
  };

  // Subscribing can fail (database down); that is still an ordinary error response, since nothing was written.
  unsubscribe = await hub.subscribe({
    userId,
    deliver: (rows) => {
      if (live) rows.forEach(send);
      else backlog.push(...rows);
    },
    ...(options.activity && {
      allEvents: options.activity.allEvents,
      // Not replayed on reconnect: a reconnecting client reads the numbers again anyway.
      activity: (eventId: string) => {
        if (live) write(`event: event_activity\ndata: ${JSON.stringify({ event: eventId })}\n\n`);
      },
    }),
    resync: () => {
      replayFrom(position).catch((err) => log.warn({ err }, 'notification stream resync failed'));
    },
    close: end,
  });

  reply.hijack();
  raw.on('close', cleanup);
  if (request.raw.destroyed) {
    cleanup();
    return;
  }
  // The stream is meant to stay open: no idle timeout on this socket (heartbeats keep proxies from closing it).
  request.raw.socket?.setTimeout(0);
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': String(request.id),
  });
  write(`retry: ${RETRY_MS}\n: connected\n\n`);
  heartbeat = setInterval(() => write(': heartbeat\n\n'), options.heartbeatMs);

  try {
    if (options.resumeFrom) await replayFrom(options.resumeFrom);
  } catch (err) {
    log.error({ err }, 'notification stream replay failed');
    end();
    return;
  }
  live = true;
  backlog.sort((a, b) => (after(a, b) ? 1 : -1)).forEach(send);
  backlog.length = 0;
}
