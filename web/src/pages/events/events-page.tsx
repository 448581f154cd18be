import { useEffect, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api } from '../../api/client';
import { Field, LoadError, Loading, SelectField, useTitle } from '../../components/ui';
import { formatDateTime, plural } from '../../lib/format';
import { useApi } from '../../lib/use-api';
import { EventBadges, seatsLeft } from './event-badges';

const FILTERS = ['search', 'location', 'category', 'date_from', 'date_to', 'has_seats', 'ordering'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;
const PAGE_SIZE = 12;

const ORDERINGS = [
  ['date_time', 'Soonest first'],
  ['-date_time', 'Latest first'],
  ['title', 'Title (A–Z)'],
  ['tickets_remaining', 'Fewest seats left'],
  ['-created_at', 'Newest'],
] as const;

const readFilters = (params: URLSearchParams): Filters =>
  Object.fromEntries(FILTERS.map((name) => [name, params.get(name) ?? ''])) as Filters;

/** The list of upcoming events; every filter and the page live in the URL, so links and Back keep them. */
export function EventsPage() {
  useTitle('Browse events');
  const [params, setParams] = useSearchParams();
  const applied = readFilters(params);
  const page = Math.max(1, Number(params.get('page')) || 1);
  const [draft, setDraft] = useState<Filters>(applied);
  const key = params.toString();
  // Back/forward or a shared link changes the URL: show its filters in the form.
  useEffect(() => setDraft(readFilters(new URLSearchParams(key))), [key]);

  const categories = useApi(() => api.GET('/categories/', { params: { query: { page_size: 100 } } }), 'categories');
  const events = useApi(
    () =>
      api.GET('/events/', {
        params: {
          query: {
            page,
            page_size: PAGE_SIZE,
            search: applied.search || undefined,
            location: applied.location || undefined,
            category: applied.category || undefined,
            date_from: applied.date_from || undefined,
            date_to: applied.date_to || undefined,
            has_seats: applied.has_seats === 'true' ? true : undefined,
            ordering: (applied.ordering || undefined) as 'date_time' | undefined,
          },
        },
      }),
    key,
  );

  const go = (next: Partial<Filters> & { page?: number }) => {
    const merged = new URLSearchParams();
    const values = { ...applied, ...next };
    for (const name of FILTERS) if (values[name]) merged.set(name, values[name]);
    if (next.page && next.page > 1) merged.set('page', String(next.page));
    setParams(merged);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    go({ ...draft, page: 1 });
  };
  const set = (name: keyof Filters) => (e: { target: { value: string } }) => setDraft({ ...draft, [name]: e.target.value });
  const anyFilter = FILTERS.some((name) => applied[name]);
  const [wide] = useState(() => window.matchMedia('(min-width: 40rem)').matches);
  const data = events.data;
  const pages = data ? Math.max(1, Math.ceil(data.count / PAGE_SIZE)) : 1;

  return (
    <>
      <h1>Upcoming events</h1>
      <form className="filters" role="search" aria-label="Find events" onSubmit={submit}>
        <Field label="Search" type="search" name="search" value={draft.search} onChange={set('search')} />
        {/* On a phone the other filters fold away unless one is in use; a native <details> needs no script. */}
        <details className="more-filters" open={wide || FILTERS.some((name) => name !== 'search' && applied[name]) || undefined}>
          <summary>More filters</summary>
          <div className="more-filters-grid">
            <Field label="Location" name="location" value={draft.location} onChange={set('location')} />
            <SelectField label="Category" name="category" value={draft.category} onChange={set('category')}>
              <option value="">Any category</option>
              {categories.data?.results.map((c) => (
                <option key={c.id} value={c.slug}>
                  {c.name}
                </option>
              ))}
            </SelectField>
            <Field label="From" type="date" name="date_from" value={draft.date_from} onChange={set('date_from')} />
            <Field label="To" type="date" name="date_to" value={draft.date_to} onChange={set('date_to')} />
            <SelectField label="Sort by" name="ordering" value={draft.ordering} onChange={set('ordering')}>
              {ORDERINGS.map(([value, label]) => (
                <option key={value} value={value === 'date_time' ? '' : value}>
                  {label}
                </option>
              ))}
            </SelectField>
            <div className="field checkbox">
              <input
                id="has-seats"
                type="checkbox"
                checked={draft.has_seats === 'true'}
                onChange={(e) => setDraft({ ...draft, has_seats: e.target.checked ? 'true' : '' })}
              />
              <label htmlFor="has-seats">Only events with seats left</label>
            </div>
          </div>
        </details>
        <div className="actions">
          <button type="submit" className="primary">
            Search
          </button>
          {anyFilter && (
            <button type="button" onClick={() => setParams(new URLSearchParams())}>
              Clear filters
            </button>
          )}
        </div>
      </form>

      <section aria-labelledby="results-heading" aria-busy={events.loading}>
        <h2 id="results-heading" className="visually-hidden">
          Results
        </h2>
        {events.loading && !data ? (
          <Loading what="Loading events" />
        ) : events.error ? (
          <LoadError message={events.error} retry={() => events.reload()} />
        ) : data && data.results.length === 0 ? (
          <div className="empty" role="status">
            <p>No events match {anyFilter ? 'these filters' : 'right now'}.</p>
            {anyFilter && (
              <button type="button" onClick={() => setParams(new URLSearchParams())}>
                Clear filters
              </button>
            )}
          </div>
        ) : data ? (
          <>
            <p role="status" className="count">
              {plural(data.count, 'event')}
            </p>
            <ul className="cards">
              {data.results.map((event) => (
                <li key={event.id} className="card">
                  <h3>
                    <Link to={`/events/${event.id}`}>{event.title}</Link>
                  </h3>
                  <p className="when">{formatDateTime(event.date_time)}</p>
                  <p className="where">{event.location}</p>
                  <p className="seats">{seatsLeft(event)}</p>
                  <EventBadges event={event} />
                </li>
              ))}
            </ul>
            {pages > 1 && (
              <nav className="pager" aria-label="Pages">
                <button type="button" disabled={page <= 1} onClick={() => go({ page: page - 1 })}>
                  Previous page
                </button>
                <span>
                  Page {page} of {pages}
                </span>
                <button type="button" disabled={page >= pages} onClick={() => go({ page: page + 1 })}>
                  Next page
                </button>
              </nav>
            )}
          </>
        ) : null}
      </section>
    </>
  );
}
