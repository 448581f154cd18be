import { NavLink, Navigate, Outlet, useLocation } from 'react-router';
import { Loading, useTitle } from '../../components/ui';
import { useSession } from '../../lib/session';

// The list pieces (filters in the URL, pager, actions, results) are shared with the organizer pages.
export { FilterActions, flag, ListResults, Pager, useAction, useUrlFilters, type Outcome } from '../../components/lists';

const SECTIONS = [
  ['users', 'Users'],
  ['categories', 'Categories'],
  ['events', 'Events'],
  ['feedback', 'Feedback'],
  ['system', 'System'],
  ['audit', 'Audit log'],
] as const;

/**
 * Every /admin/... page: signed-in staff only. Anyone else signed in sees "not allowed" (the API refuses them
 * too; this page only saves them a screen of errors); a visitor is asked to log in first.
 */
export function AdminLayout() {
  const { user, restoring } = useSession();
  const location = useLocation();
  if (restoring) return <Loading what="Restoring your session" />;
  if (!user) return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  if (!user.is_staff) return <NotAllowed />;
  return (
    <>
      <nav aria-label="Admin" className="admin-nav">
        <ul>
          {SECTIONS.map(([path, label]) => (
            <li key={path}>
              <NavLink to={`/admin/${path}`}>{label}</NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <Outlet />
    </>
  );
}

function NotAllowed() {
  useTitle('Not allowed');
  return (
    <section className="narrow">
      <h1>Not allowed</h1>
      <p>These pages are for staff members only. Your account does not have staff rights.</p>
    </section>
  );
}

