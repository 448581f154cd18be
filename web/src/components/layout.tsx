import { Link, NavLink, Navigate, Outlet, useLocation, useNavigate } from 'react-router';
import { logOut } from '../api/client';
import { useLive } from '../lib/live';
import { useSession } from '../lib/session';
import { Loading, useTitle } from './ui';

function Bell() {
  const { unread } = useLive();
  const label = unread ? `Notifications, ${unread} unread` : 'Notifications';
  return (
    <NavLink to="/notifications" className="bell" aria-label={label}>
      <svg aria-hidden="true" viewBox="0 0 24 24" width="22" height="22">
        <path
          fill="currentColor"
          d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"
        />
      </svg>
      {unread ? (
        <span className="bell-count" data-testid="unread-count">
          {unread}
        </span>
      ) : null}
    </NavLink>
  );
}

export function Layout() {
  const { user } = useSession();
  const navigate = useNavigate();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <Link to="/" className="brand">
          Events
        </Link>
        <nav aria-label="Main">
          <ul>
            <li>
              <NavLink to="/" end>
                Browse
              </NavLink>
            </li>
            {user ? (
              <>
                <li>
                  <NavLink to="/tickets">My tickets</NavLink>
                </li>
                <li>
                  <Bell />
                </li>
                <li>
                  <NavLink to="/profile">Profile</NavLink>
                </li>
                {(user.is_organizer || user.is_staff) && (
                  <li>
                    <NavLink to="/organizer">My events</NavLink>
                  </li>
                )}
                {user.is_staff && (
                  <li>
                    <NavLink to="/admin">Admin</NavLink>
                  </li>
                )}
                <li>
                  <button type="button" className="link-button" onClick={() => void logOut().then(() => navigate('/'))}>
                    Log out
                  </button>
                </li>
              </>
            ) : (
              <>
                <li>
                  <NavLink to="/login">Log in</NavLink>
                </li>
                <li>
                  <NavLink to="/signup">Sign up</NavLink>
                </li>
              </>
            )}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}

/** Pages for signed-in users: wait for a reload's session to come back, else ask to log in and return here. */
export function RequireSession() {
  const { user, restoring } = useSession();
  const location = useLocation();
  if (restoring) return <Loading what="Restoring your session" />;
  if (!user) return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  return <Outlet />;
}

export function NotFoundPage() {
  useTitle('Not found');
  return (
    <>
      <h1>Page not found</h1>
      <p>
        <Link to="/">Browse events</Link>
      </p>
    </>
  );
}
