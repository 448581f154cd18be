import { useState } from 'react';
import { Link } from 'react-router';
import { api, errorMessage, type Notification } from '../../api/client';
import { LoadError, Loading, Notice, useTitle } from '../../components/ui';
import { formatDateTime } from '../../lib/format';
import { useLive, useLiveNotifications } from '../../lib/live';
import { useApi } from '../../lib/use-api';

export function NotificationsPage() {
  useTitle('Notifications');
  const { refreshUnread } = useLive();
  const list = useApi(() => api.GET('/notifications/', { params: { query: { page_size: 50 } } }), 'notifications');
  useLiveNotifications(() => list.reload(true));
  const [problem, setProblem] = useState<string | null>(null);

  const run = async (action: () => Promise<{ error?: unknown; response: Response }>) => {
    setProblem(null);
    try {
      const { error, response } = await action();
      if (!response.ok) setProblem(errorMessage(error));
    } catch (err) {
      setProblem(errorMessage(err));
    }
    list.reload(true);
    refreshUnread();
  };

  if (list.loading && !list.data) return <Loading what="Loading notifications" />;
  if (list.error && !list.data) return <LoadError message={list.error} retry={() => list.reload()} />;
  const items = list.data?.results ?? [];
  const anyUnread = items.some((n) => !n.is_read);

  return (
    <>
      <h1>Notifications</h1>
      {problem && <Notice kind="error">{problem}</Notice>}
      {anyUnread && (
        <button type="button" onClick={() => void run(() => api.POST('/notifications/mark-all-as-read/'))}>
          Mark all as read
        </button>
      )}
      {items.length === 0 ? (
        <p>No notifications yet.</p>
      ) : (
        <ul className="notifications">
          {items.map((n: Notification) => (
            <li key={n.id} className={n.is_read ? 'read' : 'unread'}>
              <p>
                {!n.is_read && <span className="visually-hidden">Unread: </span>}
                {n.message}
              </p>
              <p className="hint">
                {formatDateTime(n.created_at)}
                {n.event && (
                  <>
                    {' · '}
                    <Link to={`/events/${n.event}`}>View event</Link>
                  </>
                )}
              </p>
              {!n.is_read && (
                <button
                  type="button"
                  onClick={() => void run(() => api.PATCH('/notifications/{id}/mark-as-read/', { params: { path: { id: n.id } } }))}
                  aria-label={`Mark as read: ${n.message}`}
                >
                  Mark as read
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
