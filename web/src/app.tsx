import { lazy, Suspense, type ReactNode } from 'react';
import { Navigate, Route, Routes } from 'react-router';
import { Layout } from './components/layout';
import { LoginPage, SignUpPage } from './pages/account/auth-pages';
import { ProfilePage } from './pages/account/profile-page';
import { ForgotPasswordPage, ResetPasswordPage, VerifyEmailPage } from './pages/account/recovery-pages';
import { EventPage } from './pages/events/event-page';
import { EventsPage } from './pages/events/events-page';
import { NotificationsPage } from './pages/notifications/notifications-page';
import { TicketPage } from './pages/tickets/ticket-page';
import { TicketsPage } from './pages/tickets/tickets-page';
import { LiveProvider } from './lib/live';
import { AdminLayout } from './pages/admin/admin-ui';
import { AdminAuditPage } from './pages/admin/audit-page';
import { AdminCategoriesPage } from './pages/admin/categories-page';
import { AdminEventsPage } from './pages/admin/events-page';
import { AdminFeedbackPage } from './pages/admin/feedback-page';
import { AdminSystemPage } from './pages/admin/system-page';
import { AdminUserPage, AdminUsersPage } from './pages/admin/users-pages';
import { NotFoundPage, RequireSession } from './components/layout';
import { Loading } from './components/ui';
import { OrganizerLayout } from './pages/organizer/organizer-ui';

// The organizer console and the door are loaded when first opened: attendees never download them.
const MyEventsPage = lazy(() => import('./pages/organizer/my-events-page').then((m) => ({ default: m.MyEventsPage })));
const EventFormPage = lazy(() => import('./pages/organizer/event-form-page').then((m) => ({ default: m.EventFormPage })));
const AttendeesPage = lazy(() => import('./pages/organizer/attendees-page').then((m) => ({ default: m.AttendeesPage })));
const CheckInPage = lazy(() => import('./pages/checkin/check-in-page').then((m) => ({ default: m.CheckInPage })));

const later = (page: ReactNode) => <Suspense fallback={<Loading what="Loading the page" />}>{page}</Suspense>;

export function App() {
  return (
    <LiveProvider>
      <Routes>
        <Route element={<Layout />}>
          <Route index element={<EventsPage />} />
          <Route path="events/:id" element={<EventPage />} />
          <Route path="login" element={<LoginPage />} />
          <Route path="signup" element={<SignUpPage />} />
          <Route path="forgot-password" element={<ForgotPasswordPage />} />
          <Route path="reset-password" element={<ResetPasswordPage />} />
          <Route path="verify-email" element={<VerifyEmailPage />} />
          <Route element={<RequireSession />}>
            <Route path="tickets" element={<TicketsPage />} />
            <Route path="tickets/:registrationId/:code" element={<TicketPage />} />
            <Route path="notifications" element={<NotificationsPage />} />
            <Route path="profile" element={<ProfilePage />} />
          </Route>
          <Route path="organizer" element={<OrganizerLayout />}>
            <Route index element={later(<MyEventsPage />)} />
            <Route path="events/new" element={later(<EventFormPage />)} />
            <Route path="events/:id/edit" element={later(<EventFormPage key="edit" />)} />
            <Route path="events/:id/attendees" element={later(<AttendeesPage />)} />
            <Route path="*" element={<NotFoundPage />} />
          </Route>
          <Route path="check-in/:id" element={later(<CheckInPage />)} />
          <Route path="admin" element={<AdminLayout />}>
            <Route index element={<Navigate to="users" replace />} />
            <Route path="users" element={<AdminUsersPage />} />
            <Route path="users/:id" element={<AdminUserPage />} />
            <Route path="categories" element={<AdminCategoriesPage />} />
            <Route path="events" element={<AdminEventsPage />} />
            <Route path="feedback" element={<AdminFeedbackPage />} />
            <Route path="system" element={<AdminSystemPage />} />
            <Route path="audit" element={<AdminAuditPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Route>
          <Route path="*" element={<NotFoundPage />} />
        </Route>
      </Routes>
    </LiveProvider>
  );
}
