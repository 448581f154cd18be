import { useEffect, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, errorMessage, type Event, type Registration } from '../../api/client';
import { LoadError, Loading, Notice, SelectField, useTitle } from '../../components/ui';
import { formatDateTime, newIdempotencyKey, plural, viewerTimeZone } from '../../lib/format';
import { useLiveNotifications } from '../../lib/live';
import { useSession } from '../../lib/session';
import { useApi } from '../../lib/use-api';
import { EventBadges, seatsLeft } from './event-badges';

/** The API's largest quantity per registration (the schema's maximum). */
const MAX_QUANTITY = 10;
/** The event (and your registration) are re-read this often while the page is open, and at once when a notification names this event. */
const REFRESH_MS = 10_000;

export function registrationInWords(r: Registration): string {
  if (r.status === 'registered') return `You are registered with ${plural(r.quantity, 'ticket')}.`;
  if (r.status === 'waitlisted')
    return `You are on the waiting list at position ${r.waitlist_position ?? '?'} for ${plural(r.quantity, 'seat')}.`;
  return 'Your registration was cancelled.';
}

async function myRegistration(eventId: string) {
  // The live (registered or waitlisted) registration of the user for this event, if any.
  const result = await api.GET('/registrations/mine/', { params: { query: { page_size: 100 } } });
  if (!result.data) return { error: result.error };
  return { data: result.data.results.find((r) => r.event === eventId && r.status !== 'cancelled') ?? null };
}

export function EventPage() {
  const { id = '' } = useParams();
  const { user, restoring } = useSession();
  const event = useApi(() => api.GET('/events/{id}/', { params: { path: { id } } }), id);
  const registration = useApi(() => (user ? myRegistration(id) : Promise.resolve({ data: null })), `${id}:${user?.id}`);
  useTitle(event.data?.title ?? 'Event');

  // Polling keeps seats left current for visitors, and the registration current should the stream be down.
  const reloadEvent = event.reload;
  const reloadRegistration = registration.reload;
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState !== 'visible') return;
      reloadEvent(true);
      if (user) reloadRegistration(true);
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reloadEvent, reloadRegistration, user]);

  useLiveNotifications((n) => {
    if (n.event !== id) return;
    event.reload(true);
    registration.reload(true);
  });

  if (event.loading && !event.data) return <Loading what="Loading the event" />;
  if (event.error && !event.data) return <LoadError message={event.error} retry={() => event.reload()} />;
  const e = event.data!;
  const started = new Date(e.date_time).getTime() <= Date.now();

  return (
    <article className="event">
      <p>
        <Link to="/">← All events</Link>
      </p>
      <h1>{e.title}</h1>
      <EventBadges event={e} />
      <dl className="facts">
        <dt>When</dt>
        <dd>
          {formatDateTime(e.date_time, 'long')}
          {e.end_time && <> – {formatDateTime(e.end_time, 'long')}</>}
          <span className="hint"> (your time zone: {viewerTimeZone()})</span>
        </dd>
        <dt>Where</dt>
        <dd>{e.location}</dd>
        {e.category && <CategoryName id={e.category} />}
        <dt>Seats</dt>
        <dd data-testid="seats-left" aria-live="polite">
          {seatsLeft(e)}
          {e.waitlist_count > 0 && `, ${plural(e.waitlist_count, 'order')} on the waiting list`}
        </dd>
        {e.rating_count > 0 && (
          <>
            <dt>Rating</dt>
            <dd>
              {e.rating_average} out of 5 ({plural(e.rating_count, 'review')})
            </dd>
          </>
        )}
      </dl>
      <p className="description">{e.description}</p>
      <p>
        <a href={`/events/${e.id}/calendar.ics`} download>
          Add to calendar (.ics)
        </a>
      </p>

      <section aria-labelledby="register-heading" className="panel">
        <h2 id="register-heading">Tickets</h2>
        {restoring ? (
          <Loading what="Restoring your session" />
        ) : !user ? (
          <p>
            <Link to={`/login?next=${encodeURIComponent(`/events/${e.id}`)}`}>Log in</Link> or{' '}
            <Link to="/signup">sign up</Link> to register.
          </p>
        ) : registration.loading && registration.data === undefined ? (
          <Loading what="Checking your registration" />
        ) : registration.data ? (
          <div role="status" aria-live="polite" data-testid="my-registration">
            <p>{registrationInWords(registration.data)}</p>
            <p>
              <Link to="/tickets">See My tickets</Link>
            </p>
          </div>
        ) : started ? (
          <p>This event has started; registration is closed.</p>
        ) : !e.is_active ? (
          <p>This event was cancelled.</p>
        ) : (
          <RegisterForm event={e} onDone={() => (registration.reload(true), event.reload(true))} />
        )}
      </section>

      {started && <FeedbackList eventId={e.id} />}
    </article>
  );
}

function CategoryName({ id }: { id: string }) {
  const category = useApi(() => api.GET('/categories/{id}/', { params: { path: { id } } }), id);
  return (
    <>
      <dt>Category</dt>
      <dd>{category.data?.name ?? '…'}</dd>
    </>
  );
}

/**
 * Quantity and Register. One Idempotency-Key per intent (kept until the server answered), and a guard against a
 * second send while one is in flight: a double click makes one registration.
 */
function RegisterForm({ event, onDone }: { event: Event; onDone: () => void }) {
  const [quantity, setQuantity] = useState(1);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const key = useRef(newIdempotencyKey());
  const sending = useRef(false);

  const register = async () => {
    if (sending.current) return;
    sending.current = true;
    setBusy(true);
    setResult(null);
    try {
      const { data, error } = await api.POST('/registrations/', {
        body: { event: event.id, quantity },
        headers: { 'idempotency-key': key.current },
      });
      key.current = newIdempotencyKey();
      if (data) {
        setResult({ kind: 'success', text: registrationInWords(data) });
        onDone();
      } else setResult({ kind: 'error', text: errorMessage(error) });
    } catch (err) {
      // The request may have reached the server: the same key on a retry cannot register twice.
      setResult({ kind: 'error', text: errorMessage(err) });
    } finally {
      sending.current = false;
      setBusy(false);
    }
  };

  return (
    <form
      className="register"
      onSubmit={(e) => {
        e.preventDefault();
        void register();
      }}
    >
      <SelectField
        label="Number of tickets"
        value={quantity}
        onChange={(e) => {
          setQuantity(Number(e.target.value));
          key.current = newIdempotencyKey();
        }}
      >
        {Array.from({ length: MAX_QUANTITY }, (_, i) => i + 1).map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </SelectField>
      <button type="submit" className="primary" disabled={busy}>
        {event.is_sold_out ? 'Join the waiting list' : 'Register'}
      </button>
      {busy && <Loading what="Registering" />}
      {result && <Notice kind={result.kind}>{result.text}</Notice>}
    </form>
  );
}

function FeedbackList({ eventId }: { eventId: string }) {
  const feedback = useApi(() => api.GET('/feedbacks/', { params: { query: { event: eventId, page_size: 50 } } }), eventId);
  return (
    <section aria-labelledby="feedback-heading">
      <h2 id="feedback-heading">Feedback</h2>
      {feedback.loading ? (
        <Loading what="Loading feedback" />
      ) : feedback.error ? (
        <LoadError message={feedback.error} retry={() => feedback.reload()} />
      ) : feedback.data?.results.length ? (
        <ul className="feedback-list">
          {feedback.data.results.map((f) => (
            <li key={f.id}>
              <p>
                <strong>{f.rating} out of 5</strong> · {formatDateTime(f.created_at)}
              </p>
              {f.comment && <p>{f.comment}</p>}
            </li>
          ))}
        </ul>
      ) : (
        <p>No feedback yet.</p>
      )}
    </section>
  );
}
