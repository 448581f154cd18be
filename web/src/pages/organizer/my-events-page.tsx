import { Link, useSearchParams } from 'react-router';
import { api, type Event } from '../../api/client';
import { ListResults, Pager, useUrlFilters } from '../../components/lists';
import { Badge, Notice, SelectField, useTitle } from '../../components/ui';
import { formatDateTime, plural } from '../../lib/format';
import { useEventActivity } from '../../lib/live';
import { useApi } from '../../lib/use-api';
import type { paths } from '../../api/schema';

export type EventStats = paths['/events/{id}/stats/']['get']['responses'][200]['content']['application/json'];

const PAGE_SIZE = 20;
const FILTERS = ['show'] as const;
type Show = 'upcoming' | 'past' | 'inactive';

export function MyEventsPage() {
  useTitle('My events');
  const f = useUrlFilters(FILTERS);
  const created = useSearchParams()[0].get('created');
  const show = (f.applied.show || undefined) as Show | undefined;
  const events = useApi(
    () =>
      api.GET('/events/mine/', {
        params: { query: { page: f.page, page_size: PAGE_SIZE, show, ordering: show === 'upcoming' ? 'date_time' : '-date_time' } },
      }),
    f.key,
  );
  return (
    <>
      <h1>My events</h1>
      {created && <Notice kind="success">Event “{created}” created.</Notice>}
      <p className="actions">
        <Link to="/organizer/events/new">Create an event</Link>
      </p>
      <form className="filters admin-filters" aria-label="Which events" onSubmit={f.submit}>
        <SelectField label="Show" name="show" value={f.draft.show} onChange={f.set('show')}>
          <option value="">All my events</option>
          <option value="upcoming">Upcoming</option>
          <option value="past">Past</option>
          <option value="inactive">Unpublished or cancelled</option>
        </SelectField>
        <div className="actions">
          <button type="submit" className="primary">
            Show
          </button>
        </div>
      </form>
      <ListResults
        id="my-events"
        heading="Your events"
        state={events}
        loadingText="Loading your events"
        count={(d) => plural(d.count, 'event')}
      >
        {(data) =>
          data.results.length === 0 ? (
            <p className="empty">
              No events here yet. <Link to="/organizer/events/new">Create one</Link>.
            </p>
          ) : (
            <>
              <ul className="cards organizer-cards">
                {data.results.map((event) => (
                  <EventCard key={event.id} event={event} />
                ))}
              </ul>
              <Pager page={f.page} count={data.count} pageSize={PAGE_SIZE} go={(page) => f.go({ page })} />
            </>
          )
        }
      </ListResults>
    </>
  );
}

function EventCard({ event }: { event: Event }) {
  const stats = useApi(() => api.GET('/events/{id}/stats/', { params: { path: { id: event.id } } }), event.id);
  // The server says when this event's numbers move (a registration, a cancellation, a check-in): read them again.
  useEventActivity((ids) => {
    if (ids === 'all' || ids.has(event.id)) stats.reload(true);
  });
  const headingId = `event-${event.id}`;
  return (
    <li className="card">
      <h2 id={headingId} className="card-title">
        {event.title}
      </h2>
      <p className="when">{formatDateTime(event.date_time)}</p>
      <p className="badges">
        <StatusBadge event={event} />
        {event.is_sold_out && <Badge tone="bad">Sold out</Badge>}
        {event.is_selling_out_soon && <Badge tone="warn">Selling out soon</Badge>}
      </p>
      <StatsView stats={stats.data} error={stats.error} />
      <ul className="card-links">
        <li>
          <Link to={`/organizer/events/${event.id}/attendees`} aria-label={`Attendees of ${event.title}`}>
            Attendees
          </Link>
        </li>
        <li>
          <Link to={`/organizer/events/${event.id}/edit`} aria-label={`Edit ${event.title}`}>
            Edit
          </Link>
        </li>
        <li>
          <Link to={`/check-in/${event.id}`} aria-label={`Door check-in for ${event.title}`}>
            Door check-in
          </Link>
        </li>
        <li>
          <Link to={`/events/${event.id}`} aria-label={`Preview the page of ${event.title}`}>
            Preview
          </Link>
        </li>
      </ul>
    </li>
  );
}

export function StatsView({ stats, error }: { stats: EventStats | undefined; error: string | null }) {
  if (!stats) return error ? <p className="field-error">{error}</p> : <p className="hint">Loading numbers…</p>;
  return (
    <>
      <dl className="facts stats">
        <dt>Registered</dt>
        <dd data-testid="registered">
          {stats.registered_count} of {stats.capacity}
        </dd>
        <dt>Waiting list</dt>
        <dd>{plural(stats.waitlist_count, 'order')}</dd>
        <dt>Checked in</dt>
        <dd>{stats.checked_in_count}</dd>
      </dl>
      <Sparkline days={stats.registrations_over_time} />
    </>
  );
}

/** Seats asked for, added up day by day: a small line that says how sales went, with the same in words. */
function Sparkline({ days }: { days: EventStats['registrations_over_time'] }) {
  if (days.length === 0) return <p className="hint">No registrations yet.</p>;
  let total = 0;
  const cumulative = days.map((d) => (total += d.seats));
  const width = 160;
  const height = 36;
  const step = days.length > 1 ? width / (days.length - 1) : 0;
  const points = cumulative.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / total) * (height - 4)).toFixed(1)}`);
  if (points.length === 1) points.push(`${width},${points[0]!.split(',')[1]}`);
  const label = `Registrations over time: ${plural(total, 'seat')} asked for over ${plural(days.length, 'day')}, from ${days[0]!.date} to ${days[days.length - 1]!.date}`;
  return (
    <svg className="sparkline" role="img" aria-label={label} viewBox={`0 0 ${width} ${height}`} width={width} height={height}>
      <polyline fill="none" stroke="currentColor" strokeWidth="2" points={points.join(' ')} />
    </svg>
  );
}

/** Published, unpublished (hidden, can be published again) or cancelled (final), in words. */
export function StatusBadge({ event }: { event: Pick<Event, 'status'> }) {
  if (event.status === 'cancelled') return <Badge tone="bad">Cancelled</Badge>;
  if (event.status === 'unpublished') return <Badge tone="warn">Unpublished</Badge>;
  return <Badge tone="good">Published</Badge>;
}
