import { useState } from 'react';
import { Link } from 'react-router';
import { api, type Event } from '../../api/client';
import { ConfirmDialog, Field, SelectField, useTitle } from '../../components/ui';
import { formatDateTime, plural } from '../../lib/format';
import { useApi } from '../../lib/use-api';
import { EventBadges } from '../events/event-badges';
import { FilterActions, flag, ListResults, Pager, useAction, useUrlFilters } from './admin-ui';

const PAGE_SIZE = 20;
const FILTERS = ['search', 'category', 'is_active', 'include_past', 'ordering'] as const;

export function AdminEventsPage() {
  useTitle('Events · Admin');
  const f = useUrlFilters(FILTERS);
  const categories = useApi(() => api.GET('/categories/', { params: { query: { page_size: 100 } } }), 'categories');
  const events = useApi(
    () =>
      api.GET('/admin/events/', {
        params: {
          query: {
            page: f.page,
            page_size: PAGE_SIZE,
            search: f.applied.search || undefined,
            category: f.applied.category || undefined,
            is_active: flag(f.applied.is_active),
            include_past: f.applied.include_past === 'true' ? true : undefined,
            ordering: (f.applied.ordering || undefined) as '-date_time' | undefined,
          },
        },
      }),
    f.key,
  );
  const action = useAction();
  const [deactivating, setDeactivating] = useState<Event | null>(null);

  const toggle = async (event: Event) => {
    setDeactivating(null);
    const path = event.is_active ? '/admin/events/{id}/deactivate/' : '/admin/events/{id}/reactivate/';
    const done = event.is_active
      ? `“${event.title}” is unpublished: hidden from attendees and closed to registration; its registrations are kept.`
      : `“${event.title}” is published again.`;
    if (await action.run(() => api.POST(path, { params: { path: { id: event.id } } }), done)) events.reload(true);
  };

  return (
    <>
      <h1>All events</h1>
      <form className="filters admin-filters" role="search" aria-label="Find events" onSubmit={f.submit}>
        <Field label="Search" type="search" name="search" value={f.draft.search} onChange={f.set('search')} />
        <SelectField label="Category" name="category" value={f.draft.category} onChange={f.set('category')}>
          <option value="">Any category</option>
          {categories.data?.results.map((c) => (
            <option key={c.id} value={c.slug}>
              {c.name}
            </option>
          ))}
        </SelectField>
        <SelectField label="State" name="is_active" value={f.draft.is_active} onChange={f.set('is_active')}>
          <option value="">Published and inactive</option>
          <option value="true">Published only</option>
          <option value="false">Unpublished or cancelled</option>
        </SelectField>
        <SelectField label="Sort by" name="ordering" value={f.draft.ordering} onChange={f.set('ordering')}>
          <option value="">Soonest first</option>
          <option value="-date_time">Latest first</option>
          <option value="-created_at">Newest</option>
        </SelectField>
        <div className="field checkbox">
          <input
            id="include-past"
            type="checkbox"
            checked={f.draft.include_past === 'true'}
            onChange={(e) => f.setDraft({ ...f.draft, include_past: e.target.checked ? 'true' : '' })}
          />
          <label htmlFor="include-past">Include past events</label>
        </div>
        <FilterActions filters={f} />
      </form>
      {action.shown}
      <ListResults id="events-results" state={events} loadingText="Loading events" count={(data) => plural(data.count, 'event')}>
        {(data) => (
          <>
            <ul className="admin-list">
              {data.results.map((e) => (
                <li key={e.id}>
                  <Link to={`/events/${e.id}`}>{e.title}</Link> <EventBadges event={e} />
                  <p className="hint">
                    {formatDateTime(e.date_time)} · {e.location} · {e.registered_count} of {e.capacity} seats taken ·{' '}
                    <Link to={`/admin/users/${e.organizer}`}>organizer</Link>
                  </p>
                  {e.status === 'cancelled' ? (
                    <p className="hint">Cancelled by its organizer: final.</p>
                  ) : e.is_active ? (
                    <button
                      type="button"
                      className="danger"
                      disabled={action.busy}
                      onClick={() => setDeactivating(e)}
                      aria-label={`Deactivate ${e.title}`}
                    >
                      Deactivate
                    </button>
                  ) : (
                    <button type="button" disabled={action.busy} onClick={() => void toggle(e)} aria-label={`Reactivate ${e.title}`}>
                      Reactivate
                    </button>
                  )}
                </li>
              ))}
            </ul>
            <Pager page={f.page} count={data.count} pageSize={PAGE_SIZE} go={(page) => f.go({ page })} />
          </>
        )}
      </ListResults>
      <ConfirmDialog
        open={deactivating !== null}
        title={`Unpublish “${deactivating?.title ?? ''}”?`}
        confirmLabel="Deactivate event"
        onConfirm={() => deactivating && void toggle(deactivating)}
        onCancel={() => setDeactivating(null)}
        busy={action.busy}
      >
        <p>It leaves the public list and takes no registrations until reactivated; its registrations and tickets are kept.</p>
      </ConfirmDialog>
    </>
  );
}
