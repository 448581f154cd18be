import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, errorMessage } from '../../api/client';
import { FilterActions, ListResults, Pager, useAction, useUrlFilters } from '../../components/lists';
import { Field, Notice, SelectField, useTitle } from '../../components/ui';
import { formatDateTime, plural } from '../../lib/format';
import { useEventActivity } from '../../lib/live';
import { useApi } from '../../lib/use-api';
import type { paths } from '../../api/schema';
import { StatsView } from './my-events-page';

type Page = Exclude<paths['/events/{id}/registrations/']['get']['responses'][200]['content']['application/json'], string>;
type Attendee = Page['results'][number];
type Ordering = NonNullable<NonNullable<paths['/events/{id}/registrations/']['get']['parameters']['query']>['ordering']>;
type Status = 'registered' | 'waitlisted' | 'cancelled';

const PAGE_SIZE = 25;
const FILTERS = ['search', 'status', 'ordering'] as const;

export function AttendeesPage() {
  const { id = '' } = useParams();
  const f = useUrlFilters(FILTERS);
  const event = useApi(() => api.GET('/events/{id}/', { params: { path: { id } } }), id);
  const stats = useApi(() => api.GET('/events/{id}/stats/', { params: { path: { id } } }), id);
  const query = {
    search: f.applied.search || undefined,
    status: (f.applied.status || undefined) as Status | undefined,
    ordering: (f.applied.ordering || undefined) as Ordering | undefined,
  };
  const list = useApi(async () => {
    const result = await api.GET('/events/{id}/registrations/', {
      params: { path: { id }, query: { ...query, page: f.page, page_size: PAGE_SIZE } },
    });
    return { ...result, data: result.data as Page | undefined };
  }, `${id}?${f.key}`);
  useEventActivity((ids) => {
    if (ids === 'all' || ids.has(id)) {
      stats.reload(true);
      list.reload(true);
    }
  });
  const title = event.data?.title ?? 'Event';
  useTitle(`Attendees · ${title}`);
  const action = useAction();
  const [downloadError, setDownloadError] = useState<string | null>(null);

  const checkIn = async (attendee: Attendee, code: string) => {
    const done = `Ticket ${code} of ${attendee.username} is checked in.`;
    if (await action.run(() => api.POST('/tickets/check-in/', { body: { code, event: id } }), done)) {
      list.reload(true);
      stats.reload(true);
    }
  };

  const downloadCsv = async () => {
    setDownloadError(null);
    try {
      const { data, error } = await api.GET('/events/{id}/registrations/', {
        params: { path: { id }, query: { ...query, format: 'csv' } },
        parseAs: 'blob',
      });
      if (!data) return setDownloadError(errorMessage(error));
      const url = URL.createObjectURL(data as Blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = `door-list-${id}.csv`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setDownloadError(errorMessage(err));
    }
  };

  return (
    <>
      <h1>Attendees of “{title}”</h1>
      <p className="card-links">
        <Link to={`/check-in/${id}`}>Door check-in</Link> <Link to={`/organizer/events/${id}/edit`}>Edit the event</Link>{' '}
        <Link to={`/events/${id}`}>Preview the event page</Link>
      </p>
      <StatsView stats={stats.data} error={stats.error} />
      <form className="filters admin-filters" role="search" aria-label="Find attendees" onSubmit={f.submit}>
        <Field label="Name, email or ticket code" type="search" name="search" value={f.draft.search} onChange={f.set('search')} />
        <SelectField label="Status" name="status" value={f.draft.status} onChange={f.set('status')}>
          <option value="">Any status</option>
          <option value="registered">Registered</option>
          <option value="waitlisted">Waiting list</option>
          <option value="cancelled">Cancelled</option>
        </SelectField>
        <SelectField label="Sort by" name="ordering" value={f.draft.ordering} onChange={f.set('ordering')}>
          <option value="">Oldest registration first</option>
          <option value="-created_at">Newest registration first</option>
          <option value="username">Name A–Z</option>
          <option value="-username">Name Z–A</option>
          <option value="email">Email A–Z</option>
          <option value="-quantity">Most seats first</option>
        </SelectField>
        <FilterActions filters={f} />
      </form>
      <div className="actions">
        <button type="button" onClick={() => void downloadCsv()}>
          Download the door list (CSV)
        </button>
      </div>
      {downloadError && <Notice kind="error">{downloadError}</Notice>}
      {action.shown}
      <ListResults
        id="attendees"
        heading="Registrations"
        state={list}
        loadingText="Loading registrations"
        count={(d) => plural(d.count, 'registration')}
      >
        {(data) => (
          <>
            <div className="table-wrap" role="region" aria-label="Registrations table" tabIndex={0}>
              <table className="attendees">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Email</th>
                    <th scope="col">Seats</th>
                    <th scope="col">Status</th>
                    <th scope="col">Tickets</th>
                  </tr>
                </thead>
                <tbody>
                  {data.results.map((r) => (
                    <tr key={r.id}>
                      <th scope="row">{r.username}</th>
                      <td>{r.email}</td>
                      <td>{r.quantity}</td>
                      <td>
                        <span className={`status status-${r.status}`}>
                          {r.status === 'waitlisted' ? `waitlisted (#${r.waitlist_position ?? '?'})` : r.status}
                        </span>
                        <br />
                        <span className="hint">since {formatDateTime(r.created_at)}</span>
                      </td>
                      <td>
                        {r.ticket_instances.length === 0 ? (
                          <span className="hint">No tickets</span>
                        ) : (
                          <ul className="ticket-cells">
                            {r.ticket_instances.map((t) => (
                              <li key={t.id}>
                                <code>{t.code}</code>{' '}
                                {t.is_used ? (
                                  <span className="status status-registered">checked in {t.used_at ? formatDateTime(t.used_at) : ''}</span>
                                ) : r.status === 'registered' ? (
                                  <button
                                    type="button"
                                    disabled={action.busy}
                                    onClick={() => void checkIn(r, t.code)}
                                    aria-label={`Check in ${t.code}`}
                                  >
                                    Check in
                                  </button>
                                ) : (
                                  <span className="hint">void</span>
                                )}
                              </li>
                            ))}
                          </ul>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager page={f.page} count={data.count} pageSize={PAGE_SIZE} go={(page) => f.go({ page })} />
          </>
        )}
      </ListResults>
    </>
  );
}
