import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { api } from '../../api/client';
import { Badge, ConfirmDialog, Field, LoadError, Loading, SelectField, useTitle } from '../../components/ui';
import { formatDateTime, plural } from '../../lib/format';
import { useSession } from '../../lib/session';
import { useApi } from '../../lib/use-api';
import { FilterActions, flag, ListResults, Pager, useAction, useUrlFilters } from './admin-ui';

const PAGE_SIZE = 20;
const FILTERS = ['search', 'is_organizer', 'is_staff', 'is_active'] as const;

function YesNo({
  label,
  name,
  value,
  onChange,
}: {
  label: string;
  name: string;
  value: string;
  onChange: (e: { target: { value: string } }) => void;
}) {
  return (
    <SelectField label={label} name={name} value={value} onChange={onChange}>
      <option value="">Any</option>
      <option value="true">Yes</option>
      <option value="false">No</option>
    </SelectField>
  );
}

function RoleBadges({ user }: { user: { is_staff: boolean; is_organizer: boolean; is_active: boolean } }) {
  return (
    <span className="badges">
      {user.is_staff && <Badge tone="info">Staff</Badge>}
      {user.is_organizer && <Badge tone="good">Organizer</Badge>}
      {!user.is_active && <Badge tone="bad">Deactivated</Badge>}
    </span>
  );
}

export function AdminUsersPage() {
  useTitle('Users · Admin');
  const f = useUrlFilters(FILTERS);
  const users = useApi(
    () =>
      api.GET('/admin/users/', {
        params: {
          query: {
            page: f.page,
            page_size: PAGE_SIZE,
            search: f.applied.search || undefined,
            is_organizer: flag(f.applied.is_organizer),
            is_staff: flag(f.applied.is_staff),
            is_active: flag(f.applied.is_active),
          },
        },
      }),
    f.key,
  );
  return (
    <>
      <h1>Users</h1>
      <form className="filters admin-filters" role="search" aria-label="Find users" onSubmit={f.submit}>
        <Field label="Email or username" type="search" name="search" value={f.draft.search} onChange={f.set('search')} />
        <YesNo label="Organizer" name="is_organizer" value={f.draft.is_organizer} onChange={f.set('is_organizer')} />
        <YesNo label="Staff" name="is_staff" value={f.draft.is_staff} onChange={f.set('is_staff')} />
        <YesNo label="Active" name="is_active" value={f.draft.is_active} onChange={f.set('is_active')} />
        <FilterActions filters={f} />
      </form>
      <ListResults id="users-results" state={users} loadingText="Loading users" count={(data) => plural(data.count, 'user')}>
        {(data) => (
          <>
            <ul className="admin-list">
              {data.results.map((u) => (
                <li key={u.id}>
                  <Link to={`/admin/users/${u.id}`}>{u.email}</Link> <span className="hint">@{u.username}</span> <RoleBadges user={u} />
                </li>
              ))}
            </ul>
            <Pager page={f.page} count={data.count} pageSize={PAGE_SIZE} go={(page) => f.go({ page })} />
          </>
        )}
      </ListResults>
    </>
  );
}

export function AdminUserPage() {
  const { id = '' } = useParams();
  const { user: me } = useSession();
  const detail = useApi(() => api.GET('/admin/users/{id}/', { params: { path: { id } } }), id);
  const action = useAction();
  const [confirming, setConfirming] = useState(false);
  const u = detail.data;
  useTitle(u ? `${u.email} · Admin` : 'User · Admin');
  if (detail.loading && !u) return <Loading what="Loading the user" />;
  if (detail.error && !u) return <LoadError message={detail.error} retry={() => detail.reload()} />;
  if (!u) return null;

  const change = async (body: { is_active?: boolean; is_organizer?: boolean; is_staff?: boolean }, done: string) => {
    setConfirming(false);
    if (await action.run(() => api.PATCH('/admin/users/{id}/', { params: { path: { id } }, body }), done)) detail.reload(true);
  };
  const self = me?.id === u.id;
  return (
    <>
      <p>
        <Link to="/admin/users">All users</Link>
      </p>
      <h1>{u.email}</h1>
      <RoleBadges user={u} />
      <dl className="facts">
        <dt>Username</dt>
        <dd>{u.username}</dd>
        <dt>Joined</dt>
        <dd>{formatDateTime(u.date_joined)}</dd>
        <dt>State</dt>
        <dd>{u.is_active ? 'Active' : 'Deactivated'}</dd>
        <dt>Registrations</dt>
        <dd data-testid="count-registrations">{u.counts.registrations}</dd>
        <dt>Events organized</dt>
        <dd data-testid="count-events">{u.counts.events}</dd>
        <dt>Feedback given</dt>
        <dd data-testid="count-feedbacks">{u.counts.feedbacks}</dd>
      </dl>
      <h2>Actions</h2>
      {self && <p className="hint">This is you: you cannot remove your own staff rights or deactivate yourself.</p>}
      <div className="actions">
        {u.is_active ? (
          <button type="button" className="danger" disabled={action.busy} onClick={() => setConfirming(true)}>
            Deactivate
          </button>
        ) : (
          <button type="button" disabled={action.busy} onClick={() => void change({ is_active: true }, `${u.email} can sign in again.`)}>
            Reactivate
          </button>
        )}
        <button
          type="button"
          disabled={action.busy}
          onClick={() =>
            void change(
              { is_organizer: !u.is_organizer },
              u.is_organizer ? `${u.email} is no longer an organizer.` : `${u.email} is now an organizer.`,
            )
          }
        >
          {u.is_organizer ? 'Remove organizer' : 'Grant organizer'}
        </button>
        <button
          type="button"
          disabled={action.busy}
          onClick={() => void change({ is_staff: !u.is_staff }, u.is_staff ? `${u.email} is no longer staff.` : `${u.email} is now staff.`)}
        >
          {u.is_staff ? 'Remove staff' : 'Grant staff'}
        </button>
      </div>
      {action.shown}
      <p>
        <Link to={`/admin/audit?target=${u.id}`}>Audit log for this user</Link>
        {' · '}
        <Link to={`/admin/feedback?user=${u.id}`}>Their feedback</Link>
      </p>
      <ConfirmDialog
        open={confirming}
        title={`Deactivate ${u.email}?`}
        confirmLabel="Deactivate"
        onConfirm={() => void change({ is_active: false }, `${u.email} is deactivated: they are signed out and cannot sign in.`)}
        onCancel={() => setConfirming(false)}
        busy={action.busy}
      >
        <p>They are signed out at once and cannot sign in until reactivated. Their events and tickets stay.</p>
      </ConfirmDialog>
    </>
  );
}
