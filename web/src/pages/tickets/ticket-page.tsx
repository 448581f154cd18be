import { useRef } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api } from '../../api/client';
import { QrCode } from '../../components/qr-code';
import { LoadError, Loading, useTitle } from '../../components/ui';
import { formatDateTime } from '../../lib/format';
import { useApi } from '../../lib/use-api';

/** One ticket, as large as the screen allows, to show at the door. */
export function TicketPage() {
  const { registrationId = '', code = '' } = useParams();
  const navigate = useNavigate();
  const registration = useApi(() => api.GET('/registrations/{id}/', { params: { path: { id: registrationId } } }), registrationId);
  const box = useRef<HTMLDivElement>(null);
  useTitle(`Ticket ${code}`);

  if (registration.loading && !registration.data) return <Loading what="Loading the ticket" />;
  if (registration.error && !registration.data) return <LoadError message={registration.error} retry={() => registration.reload()} />;
  const r = registration.data!;
  const ticket = r.ticket_instances.find((t) => t.code === code);
  const size = Math.max(200, Math.min(window.innerWidth, window.innerHeight - 160, 560) - 32);

  return (
    <div className="ticket-full" ref={box}>
      <h1>{r.event_title}</h1>
      <p>{formatDateTime(r.event_date_time, 'long')}</p>
      {!ticket || r.status !== 'registered' ? (
        <p role="alert">This ticket is not valid{r.status === 'cancelled' ? ': the registration was cancelled' : ''}.</p>
      ) : (
        <>
          <QrCode value={ticket.code} size={size} label={`QR code of ticket ${ticket.code}`} />
          <p className="code big">
            <code>{ticket.code}</code>
          </p>
          <p>
            Seat {ticket.seat}
            {ticket.is_used && ' · checked in'}
          </p>
        </>
      )}
      <div className="actions">
        <button type="button" onClick={() => void box.current?.requestFullscreen?.().catch(() => undefined)}>
          Full screen
        </button>
        <button type="button" onClick={() => (window.history.length > 1 ? navigate(-1) : navigate('/tickets'))}>
          Back
        </button>
        <Link to="/tickets">All my tickets</Link>
      </div>
    </div>
  );
}
