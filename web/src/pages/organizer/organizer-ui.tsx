import type { ReactNode } from 'react';
import { NavLink, Navigate, Outlet, useLocation } from 'react-router';
import type { User } from '../../api/client';
import { Loading, useTitle } from '../../components/ui';
import { useSession } from '../../lib/session';

export const canOrganize = (user: User | null) => Boolean(user && (user.is_organizer || user.is_staff));

/**
 * Signed-in organizers (and staff) only: anyone else signed in is told why the page is not for them (the API
 * refuses them too); a visitor is asked to log in first and brought back.
 */
export function RequireOrganizer({ children }: { children: ReactNode }) {
  const { user, restoring } = useSession();
  const location = useLocation();
  if (restoring) return <Loading what="Restoring your session" />;
  if (!user) return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  if (!canOrganize(user)) return <NotAnOrganizer />;
  return children;
}

/** Every /organizer/... page. */
export function OrganizerLayout() {
  return (
    <RequireOrganizer>
      <nav aria-label="Organizer" className="admin-nav">
        <ul>
          <li>
            <NavLink to="/organizer" end>
              My events
            </NavLink>
          </li>
          <li>
            <NavLink to="/organizer/events/new">New event</NavLink>
          </li>
        </ul>
      </nav>
      <Outlet />
    </RequireOrganizer>
  );
}

function NotAnOrganizer() {
  useTitle('Not allowed');
  return (
    <section className="narrow">
      <h1>Not allowed</h1>
      <p>These pages are for organizers. Your account cannot create or manage events; ask the site’s staff to make you an organizer.</p>
    </section>
  );
}
