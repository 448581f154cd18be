import { Route, Routes } from 'react-router';
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
import { NotFoundPage, RequireSession } from './components/layout';

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
          <Route path="*" element={<NotFoundPage />} />
        </Route>
      </Routes>
    </LiveProvider>
  );
}
