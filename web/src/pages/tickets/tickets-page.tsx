import { useState } from 'react';
import { Link } from 'react-router';
import { api, errorMessage, type Registration } from '../../api/client';
import { QrCode } from '../../components/qr-code';
import { ConfirmDialog, LoadError, Loading, Notice, useTitle } from '../../components/ui';
import { formatDateTime, plural } from '../../lib/format';
import { useLiveNotifications } from '../../lib/live';
import { useApi } from '../../lib/use-api';
import { registrationInWords } from '../events/event-page';
import { FeedbackForm } from './feedback-form';

export function TicketsPage() {
  useTitle('My tickets');
  const mine = useApi(() => api.GET('/registrations/mine/', { params: { query: { page_size: 100 } } }), 'mine');
  // A promotion or a cancellation by the organizer changes what is shown here.
  useLiveNotifications(() => mine.reload(true));
  const [cancelling, setCancelling] = useState<Registration | null>(null);
  const [busy, setBusy] = useState(false);
  const [news, setNews] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);

  if (mine.loading && !mine.data) return <Loading what="Loading your tickets" />;
  if (mine.error && !mine.data) return <LoadError message={mine.error} retry={() => mine.reload()} />;
  const now = Date.now();
  const all = mine.data?.results ?? [];
  const upcoming = all.filter((r) => new Date(r.event_date_time).getTime() > now && r.status !== 'cancelled');
  const past = all.filter((r) => !upcoming.includes(r));

  const confirmCancel = async () => {
    if (!cancelling) return;
    setBusy(true);
    try {
      const { data, error } = await api.POST('/registrations/{id}/cancel/', { params: { path: { id: cancelling.id } } });
      setNews(data ? { kind: 'success', text: `Cancelled your registration for ${cancelling.event_title}.` } : { kind: 'error', text: errorMessage(error) });
    } catch (err) {
      setNews({ kind: 'error', text: errorMessage(err) });
    } finally {
      setBusy(false);
      setCancelling(null);
      mine.reload(true);
    }
  };

  return (
    <>
      <h1>My tickets</h1>
      {news && <Notice kind={news.kind}>{news.text}</Notice>}
      <section aria-labelledby="upcoming-heading">
        <h2 id="upcoming-heading">Upcoming</h2>
        {upcoming.length === 0 ? (
          <p>
            No upcoming registrations. <Link to="/">Browse events</Link>
          </p>
        ) : (
          <ul className="registrations">
            {upcoming.map((r) => (
              <RegistrationCard key={r.id} registration={r} onCancel={() => setCancelling(r)} />
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="past-heading">
        <h2 id="past-heading">Past and cancelled</h2>
        {past.length === 0 ? (
          <p>Nothing here yet.</p>
        ) : (
          <ul className="registrations">
            {past.map((r) => (
              <RegistrationCard key={r.id} registration={r} past />
            ))}
          </ul>
        )}
      </section>
      <ConfirmDialog
        open={cancelling !== null}
        title="Cancel this registration?"
        confirmLabel="Cancel registration"
        busy={busy}
        onConfirm={() => void confirmCancel()}
        onCancel={() => setCancelling(null)}
      >
        <p>
          {cancelling &&
            `Your ${plural(cancelling.quantity, 'seat')} for ${cancelling.event_title} will be released and the tickets stop working.`}
        </p>
      </ConfirmDialog>
    </>
  );
}

function statusInWords(r: Registration): string {
  if (r.status === 'cancelled') return 'Cancelled';
  if (r.status === 'waitlisted') return `Waitlisted, position ${r.waitlist_position ?? '?'}`;
  const used = r.ticket_instances.filter((t) => t.is_used).length;
  if (used === r.ticket_instances.length && used > 0) return 'Checked in';
  return used ? `Registered, ${used} of ${r.ticket_instances.length} checked in` : 'Registered';
}

function RegistrationCard({ registration: r, onCancel, past }: { registration: Registration; onCancel?: () => void; past?: boolean }) {
  const headingId = `reg-${r.id}`;
  return (
    <li className="registration" aria-labelledby={headingId}>
      <h3 id={headingId}>
        <Link to={`/events/${r.event}`}>{r.event_title}</Link>
      </h3>
      <p className="when">{formatDateTime(r.event_date_time)}</p>
      <p>
        <span className={`status status-${r.status}`}>{statusInWords(r)}</span> · {plural(r.quantity, 'seat')}
      </p>
      {!past && r.status === 'waitlisted' && <p>{registrationInWords(r)}</p>}
      {r.status === 'registered' && !past && (
        <ul className="tickets">
          {r.ticket_instances.map((t) => (
            <li key={t.id} className="ticket">
              <QrCode value={t.code} size={200} label={`QR code of ticket ${t.code}`} />
              <p className="code">
                <span className="visually-hidden">Ticket code </span>
                <code>{t.code}</code>
              </p>
              <p>
                Seat {t.seat}
                {t.is_used && ' · checked in'}
              </p>
              <Link to={`/tickets/${r.id}/${encodeURIComponent(t.code)}`}>
                Show full screen<span className="visually-hidden">: ticket {t.seat} of {r.event_title}</span>
              </Link>
            </li>
          ))}
        </ul>
      )}
      {onCancel && r.status !== 'cancelled' && (
        <button type="button" className="danger" onClick={onCancel} aria-label={`Cancel registration for ${r.event_title}`}>
          Cancel registration
        </button>
      )}
      {past && r.status === 'registered' && <FeedbackForm eventId={r.event} eventTitle={r.event_title} />}
    </li>
  );
}
