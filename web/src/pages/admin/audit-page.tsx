import { Link } from 'react-router';
import { api } from '../../api/client';
import { Field, SelectField, useTitle } from '../../components/ui';
import { formatDateTime, plural } from '../../lib/format';
import { useApi } from '../../lib/use-api';
import { FilterActions, ListResults, Pager, useUrlFilters } from './admin-ui';

const PAGE_SIZE = 30;
const FILTERS = ['action', 'target_type', 'actor', 'target', 'date_from', 'date_to'] as const;
const ACTIONS = [
  ['user.update', 'User changed'],
  ['category.create', 'Category created'],
  ['category.update', 'Category changed'],
  ['category.delete', 'Category deleted'],
  ['event.deactivate', 'Event deactivated'],
  ['event.reactivate', 'Event reactivated'],
  ['feedback.delete', 'Feedback deleted'],
] as const;
const ACTION_LABEL: Record<string, string> = Object.fromEntries(ACTIONS);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Snapshot = Record<string, unknown> | null;
const show = (value: unknown) => (value === undefined ? '—' : typeof value === 'string' ? value : JSON.stringify(value));

/** "is_active: true → false" for each field either side mentions. */
function Change({ before, after }: { before: Snapshot; after: Snapshot }) {
  const keys = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])];
  return (
    <ul className="change">
      {keys.map((k) => (
        <li key={k}>
          {k.replace(/_/g, ' ')}: {show(before?.[k])} → {show(after?.[k])}
        </li>
      ))}
    </ul>
  );
}

function targetLink(type: string, id: string) {
  if (type === 'user') return `/admin/users/${id}`;
  if (type === 'event') return `/events/${id}`;
  return null;
}

export function AdminAuditPage() {
  useTitle('Audit log · Admin');
  const f = useUrlFilters(FILTERS);
  const uuidOrUndefined = (v: string) => (UUID.test(v.trim()) ? v.trim() : undefined);
  const log = useApi(
    () =>
      api.GET('/admin/audit-log/', {
        params: {
          query: {
            page: f.page,
            page_size: PAGE_SIZE,
            action: (f.applied.action || undefined) as 'user.update' | undefined,
            target_type: (f.applied.target_type || undefined) as 'user' | undefined,
            actor: uuidOrUndefined(f.applied.actor),
            target: uuidOrUndefined(f.applied.target),
            date_from: f.applied.date_from || undefined,
            date_to: f.applied.date_to || undefined,
          },
        },
      }),
    f.key,
  );
  return (
    <>
      <h1>Audit log</h1>
      <p className="hint">Every change staff made, newest first. Entries can never be edited or removed.</p>
      <form className="filters admin-filters" role="search" aria-label="Filter the audit log" onSubmit={f.submit}>
        <SelectField label="Action" name="action" value={f.draft.action} onChange={f.set('action')}>
          <option value="">Any action</option>
          {ACTIONS.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </SelectField>
        <SelectField label="Object" name="target_type" value={f.draft.target_type} onChange={f.set('target_type')}>
          <option value="">Any object</option>
          <option value="user">Users</option>
          <option value="category">Categories</option>
          <option value="event">Events</option>
          <option value="feedback">Feedback</option>
        </SelectField>
        <Field label="From" type="date" name="date_from" value={f.draft.date_from} onChange={f.set('date_from')} />
        <Field label="To" type="date" name="date_to" value={f.draft.date_to} onChange={f.set('date_to')} />
        <FilterActions filters={f} label="Filter" />
      </form>
      {(f.applied.actor || f.applied.target) && (
        <p className="hint">Showing the entries of one {f.applied.actor ? 'staff member' : 'object'}.</p>
      )}
      <ListResults
        id="audit-results"
        heading="Entries"
        state={log}
        loadingText="Loading the audit log"
        count={(data) => plural(data.count, 'entry', 'entries')}
      >
        {(data) => (
          <>
            <ul className="admin-list audit-list">
              {data.results.map((entry) => {
                const link = targetLink(entry.target_type, entry.target_id);
                return (
                  <li key={entry.id}>
                    <p>
                      <strong>{ACTION_LABEL[entry.action] ?? entry.action}</strong> by{' '}
                      <Link to={`/admin/audit?actor=${entry.actor}`}>{entry.actor_email}</Link>
                      <span className="hint"> · {formatDateTime(entry.created_at)}</span>
                    </p>
                    <Change before={entry.before} after={entry.after} />
                    <p className="hint">
                      {link ? <Link to={link}>{`Open this ${entry.target_type}`}</Link> : `${entry.target_type} ${entry.target_id}`}
                      {' · '}
                      <Link to={`/admin/audit?target=${entry.target_id}`}>History of this {entry.target_type}</Link>
                    </p>
                  </li>
                );
              })}
            </ul>
            <Pager page={f.page} count={data.count} pageSize={PAGE_SIZE} go={(page) => f.go({ page })} />
          </>
        )}
      </ListResults>
    </>
  );
}
