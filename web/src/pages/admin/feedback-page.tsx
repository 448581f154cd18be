import { useState } from 'react';
import { Link } from 'react-router';
import { api } from '../../api/client';
import { ConfirmDialog, SelectField, useTitle } from '../../components/ui';
import { formatDateTime, plural } from '../../lib/format';
import { useApi } from '../../lib/use-api';
import { FilterActions, ListResults, Pager, useAction, useUrlFilters } from './admin-ui';

const PAGE_SIZE = 20;
const FILTERS = ['rating', 'event', 'user'] as const;

interface Moderated {
  id: string;
  event: string;
  event_title: string;
  user_email: string;
  rating: number;
}

export function AdminFeedbackPage() {
  useTitle('Feedback · Admin');
  const f = useUrlFilters(FILTERS);
  const list = useApi(
    () =>
      api.GET('/admin/feedbacks/', {
        params: {
          query: {
            page: f.page,
            page_size: PAGE_SIZE,
            rating: f.applied.rating ? Number(f.applied.rating) : undefined,
            event: f.applied.event || undefined,
            user: f.applied.user || undefined,
          },
        },
      }),
    f.key,
  );
  const action = useAction();
  const [deleting, setDeleting] = useState<Moderated | null>(null);

  const remove = async (item: Moderated) => {
    setDeleting(null);
    const ok = await action.run(() => api.DELETE('/feedbacks/{id}/', { params: { path: { id: item.id } } }), 'Feedback deleted.');
    if (!ok) return;
    list.reload(true);
    // Say where the event's average stands now, as attendees will see it.
    const { data } = await api.GET('/events/{id}/', { params: { path: { id: item.event } } });
    if (data) {
      const average =
        data.rating_average === null
          ? 'no rating any more'
          : `an average of ${data.rating_average} (${plural(data.rating_count, 'rating')})`;
      action.setOutcome({ kind: 'success', text: `Feedback by ${item.user_email} deleted. “${item.event_title}” now has ${average}.` });
    }
  };

  return (
    <>
      <h1>Feedback moderation</h1>
      <form className="filters admin-filters" role="search" aria-label="Filter feedback" onSubmit={f.submit}>
        <SelectField label="Rating" name="rating" value={f.draft.rating} onChange={f.set('rating')}>
          <option value="">Any rating</option>
          {[1, 2, 3, 4, 5].map((r) => (
            <option key={r} value={String(r)}>
              {plural(r, 'star')}
            </option>
          ))}
        </SelectField>
        <FilterActions filters={f} label="Filter" />
      </form>
      {f.applied.event && <p className="hint">Showing one event's feedback.</p>}
      {f.applied.user && <p className="hint">Showing one user's feedback.</p>}
      {action.shown}
      <ListResults
        id="feedback-results"
        state={list}
        loadingText="Loading feedback"
        count={(data) => plural(data.count, 'feedback', 'feedbacks')}
      >
        {(data) => (
          <>
            <ul className="admin-list">
              {data.results.map((item) => (
                <li key={item.id}>
                  <p>
                    <strong>{plural(item.rating, 'star')}</strong> on <Link to={`/events/${item.event}`}>{item.event_title}</Link> by{' '}
                    <Link to={`/admin/users/${item.user}`}>{item.user_email}</Link>
                  </p>
                  {item.comment && <blockquote className="description">{item.comment}</blockquote>}
                  <p className="hint">
                    {formatDateTime(item.created_at)} · <Link to={`/admin/feedback?event=${item.event}`}>All feedback on this event</Link>
                  </p>
                  <button
                    type="button"
                    className="danger"
                    disabled={action.busy}
                    onClick={() => setDeleting(item)}
                    aria-label={`Delete feedback by ${item.user_email} on ${item.event_title}`}
                  >
                    Delete
                  </button>
                </li>
              ))}
            </ul>
            <Pager page={f.page} count={data.count} pageSize={PAGE_SIZE} go={(page) => f.go({ page })} />
          </>
        )}
      </ListResults>
      <ConfirmDialog
        open={deleting !== null}
        title="Delete this feedback?"
        confirmLabel="Delete feedback"
        onConfirm={() => deleting && void remove(deleting)}
        onCancel={() => setDeleting(null)}
        busy={action.busy}
      >
        <p>
          The feedback by {deleting?.user_email} on “{deleting?.event_title}” is removed for good and leaves the event's average.
        </p>
      </ConfirmDialog>
    </>
  );
}
