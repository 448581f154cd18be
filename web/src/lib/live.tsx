import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { api, type Notification } from '../api/client';
import { useSession } from './session';

interface Live {
  /** Unread notifications, kept current by the stream; null until known. */
  unread: number | null;
  /** Re-reads the unread count (after marking notifications read). */
  refreshUnread: () => void;
  /** Calls `listener` with each notification that arrives while it is subscribed. */
  subscribe: (listener: (n: Notification) => void) => () => void;
  /** Organizers and staff: calls `listener` with the id of an event of theirs that changed (registrations, check-ins, edits). */
  subscribeActivity: (listener: (eventId: string) => void) => () => void;
}

const LiveContext = createContext<Live>({
  unread: null,
  refreshUnread: () => {},
  subscribe: () => () => {},
  subscribeActivity: () => () => {},
});

export const useLive = () => useContext(LiveContext);

/** Calls `listener` for every live notification while the component is mounted. */
export function useLiveNotifications(listener: (n: Notification) => void) {
  const { subscribe } = useLive();
  const ref = useRef(listener);
  ref.current = listener;
  useEffect(() => subscribe((n) => ref.current(n)), [subscribe]);
}

/**
 * Calls `listener` (at most every `coalesceMs`, with the events that changed meanwhile) while mounted, and once
 * each time the stream (re)connects, since activity during a gap is not replayed. A rush of registrations is
 * then one re-read, not one per registration.
 */
export function useEventActivity(listener: (eventIds: Set<string> | 'all') => void, coalesceMs = 500) {
  const { subscribeActivity } = useLive();
  const ref = useRef(listener);
  ref.current = listener;
  useEffect(() => {
    let pending: Set<string> | 'all' | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const unsubscribe = subscribeActivity((eventId) => {
      if (eventId === RECONNECTED) pending = 'all';
      else if (pending !== 'all') {
        const ids: Set<string> = pending ?? new Set();
        ids.add(eventId);
        pending = ids;
      }
      timer ??= setTimeout(() => {
        timer = undefined;
        const ids = pending!;
        pending = null;
        ref.current(ids);
      }, coalesceMs);
    });
    return () => {
      clearTimeout(timer);
      unsubscribe();
    };
  }, [subscribeActivity, coalesceMs]);
}

/** Told to activity listeners when the stream (re)opens: anything may have changed while it was down. */
const RECONNECTED = '*';

/**
 * Holds one Server-Sent Events stream per signed-in tab. EventSource cannot send the Authorization header, so
 * each connection uses a single-use ticket; when the stream drops, a new ticket and `last_event_id` resume it
 * without losing what arrived in between (EventSource's own retry would reuse the spent ticket).
 */
export function LiveProvider({ children }: { children: ReactNode }) {
  const { user } = useSession();
  const [unread, setUnread] = useState<number | null>(null);
  const listeners = useRef(new Set<(n: Notification) => void>());
  const activityListeners = useRef(new Set<(eventId: string) => void>());

  const refreshUnread = useCallback(() => {
    void api.GET('/notifications/unread-count/').then(({ data }) => data && setUnread(data.unread_count));
  }, []);

  const subscribe = useCallback((listener: (n: Notification) => void) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);

  const subscribeActivity = useCallback((listener: (eventId: string) => void) => {
    activityListeners.current.add(listener);
    return () => {
      activityListeners.current.delete(listener);
    };
  }, []);

  useEffect(() => {
    if (!user) {
      setUnread(null);
      return;
    }
    let source: EventSource | null = null;
    let lastEventId = '';
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    let stopped = false;

    const connect = async () => {
      const { data } = await api.POST('/notifications/stream-ticket/').catch(() => ({ data: undefined }));
      if (stopped) return;
      if (!data) return scheduleRetry();
      const params = new URLSearchParams({ ticket: data.ticket });
      if (lastEventId) params.set('last_event_id', lastEventId);
      source = new EventSource(`/notifications/stream/?${params}`);
      source.onopen = () => {
        failures = 0;
        // Whatever happened while no stream was open is counted again from the server.
        refreshUnread();
        for (const listener of activityListeners.current) listener(RECONNECTED);
      };
      source.addEventListener('event_activity', (message) => {
        const { event } = JSON.parse(message.data as string) as { event: string };
        for (const listener of activityListeners.current) listener(event);
      });
      source.addEventListener('notification', (message) => {
        lastEventId = message.lastEventId || lastEventId;
        const notification = JSON.parse(message.data as string) as Notification;
        // Re-read rather than add one: a resumed stream replays what the count may already include.
        refreshUnread();
        for (const listener of listeners.current) listener(notification);
      });
      source.onerror = () => {
        source?.close();
        source = null;
        scheduleRetry();
      };
    };
    const scheduleRetry = () => {
      if (stopped) return;
      failures += 1;
      retryTimer = setTimeout(() => void connect(), Math.min(30_000, 1000 * 2 ** Math.min(failures, 5)));
    };

    refreshUnread();
    void connect();
    return () => {
      stopped = true;
      clearTimeout(retryTimer);
      source?.close();
    };
  }, [user?.id, refreshUnread]);

  return <LiveContext.Provider value={{ unread, refreshUnread, subscribe, subscribeActivity }}>{children}</LiveContext.Provider>;
}
