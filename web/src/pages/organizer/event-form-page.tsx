import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, errorMessage, fieldErrors, type Event } from '../../api/client';
import { useAction } from '../../components/lists';
import { ConfirmDialog, Field, LoadError, Loading, Notice, SelectField, TextAreaField, useTitle } from '../../components/ui';
import { plural, viewerTimeZone } from '../../lib/format';
import { useApi } from '../../lib/use-api';
import { StatusBadge } from './my-events-page';

interface Draft {
  title: string;
  description: string;
  location: string;
  start: string;
  end: string;
  capacity: string;
  threshold: string;
  category: string;
  is_recurring: boolean;
  is_active: boolean;
}

const EMPTY: Draft = {
  title: '',
  description: '',
  location: '',
  start: '',
  end: '',
  capacity: '50',
  threshold: '0',
  category: '',
  is_recurring: false,
  is_active: true,
};

const pad = (n: number) => String(n).padStart(2, '0');

/** An instant as a datetime-local value in the viewer's zone ("2030-03-14T09:30"). */
export function toLocalInput(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local value read in the viewer's zone, as the API's UTC instant; '' when empty or unreadable. */
export function fromLocalInput(value: string): string {
  if (!value) return '';
  const d = new Date(value); // a date-time without an offset is local time
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

const toDraft = (e: Event): Draft => ({
  title: e.title,
  description: e.description,
  location: e.location,
  start: toLocalInput(e.date_time),
  end: toLocalInput(e.end_time),
  capacity: String(e.capacity),
  threshold: String(e.event_ticket_sells_off_soon),
  category: e.category ?? '',
  is_recurring: e.is_recurring,
  is_active: e.is_active,
});

/** A whole number as typed, or the text itself so the API names what is wrong with it. */
const asNumber = (text: string) => (/^\s*-?\d+\s*$/.test(text) ? Number(text) : (text as unknown as number));

/** Create (no id) or edit an event: every field of the API, times in the organizer's own zone. */
export function EventFormPage() {
  const { id } = useParams();
  const editing = Boolean(id);
  useTitle(editing ? 'Edit event' : 'New event');
  const navigate = useNavigate();
  const categories = useApi(() => api.GET('/categories/', { params: { query: { page_size: 100 } } }), 'categories');
  const event = useApi(() => (id ? api.GET('/events/{id}/', { params: { path: { id } } }) : Promise.resolve({ data: null })), id ?? 'new');
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const zone = viewerTimeZone();

  useEffect(() => {
    if (event.data) setDraft(toDraft(event.data));
  }, [event.data]);

  const set = (name: keyof Draft) => (e: { target: { value: string } }) => setDraft({ ...draft, [name]: e.target.value });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setProblem(null);
    setSaved(null);
    const local: Record<string, string> = {};
    const start = fromLocalInput(draft.start);
    if (!start) local.date_time = 'Enter the date and time the event starts.';
    const end = fromLocalInput(draft.end);
    if (draft.end && !end) local.end_time = 'Enter a valid end date and time, or leave it empty.';
    if (Object.keys(local).length) {
      setErrors(local);
      setBusy(false);
      return;
    }
    const body = {
      title: draft.title,
      description: draft.description,
      location: draft.location,
      date_time: start,
      end_time: end || null,
      capacity: asNumber(draft.capacity),
      event_ticket_sells_off_soon: asNumber(draft.threshold || '0'),
      category: draft.category || null,
      is_recurring: draft.is_recurring,
      ...(editing ? {} : { is_active: draft.is_active }),
    };
    try {
      const result = id
        ? await api.PATCH('/events/{id}/edit/', { params: { path: { id } }, body })
        : await api.POST('/events/create/', { body });
      if (result.data) {
        if (id) {
          setSaved('Changes saved.');
          event.reload(true);
        } else navigate(`/organizer?created=${encodeURIComponent(result.data.title)}`);
        return;
      }
      const byField = fieldErrors(result.error);
      setErrors(byField);
      if (Object.keys(byField).length === 0 || byField.non_field_errors) setProblem(errorMessage(result.error));
      else setProblem('Some fields need your attention.');
    } catch (err) {
      setProblem(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  if (editing && event.loading && !event.data) return <Loading what="Loading the event" />;
  if (editing && event.error) return <LoadError message={event.error} retry={() => event.reload()} />;
  const current = event.data ?? null;
  const cancelled = current?.status === 'cancelled';

  return (
    <>
      <h1>{current ? `Edit “${current.title}”` : 'New event'}</h1>
      {current && (
        <p className="badges">
          <StatusBadge event={current} /> <Link to={`/events/${current.id}`}>Preview the event page</Link>{' '}
          <Link to={`/organizer/events/${current.id}/attendees`}>Attendees</Link>
        </p>
      )}
      {problem && <Notice kind="error">{problem}</Notice>}
      {saved && <Notice kind="success">{saved}</Notice>}
      {cancelled ? (
        <Notice kind="info">This event is cancelled: it can no longer be edited or published.</Notice>
      ) : (
        <form onSubmit={(e) => void submit(e)} noValidate className="event-form">
          <Field label="Title" name="title" value={draft.title} onChange={set('title')} error={errors.title} required maxLength={200} />
          <TextAreaField
            label="Description"
            name="description"
            value={draft.description}
            onChange={set('description')}
            error={errors.description}
          />
          <Field
            label="Location"
            name="location"
            value={draft.location}
            onChange={set('location')}
            error={errors.location}
            required
            maxLength={200}
          />
          <Field
            label={`Starts (${zone} time)`}
            type="datetime-local"
            name="date_time"
            value={draft.start}
            onChange={set('start')}
            error={errors.date_time}
            required
            hint={`In your time zone, ${zone}; attendees see it in theirs.`}
          />
          <Field
            label={`Ends (${zone} time, optional)`}
            type="datetime-local"
            name="end_time"
            value={draft.end}
            onChange={set('end')}
            error={errors.end_time}
          />
          <Field
            label="Capacity"
            type="number"
            inputMode="numeric"
            name="capacity"
            value={draft.capacity}
            onChange={set('capacity')}
            error={errors.capacity}
            required
          />
          <Field
            label="“Selling out soon” threshold"
            type="number"
            inputMode="numeric"
            name="event_ticket_sells_off_soon"
            value={draft.threshold}
            onChange={set('threshold')}
            error={errors.event_ticket_sells_off_soon}
            hint="Show “selling out soon” when this many seats or fewer are left; 0 turns it off."
          />
          <SelectField label="Category" name="category" value={draft.category} onChange={set('category')} error={errors.category}>
            <option value="">No category</option>
            {categories.data?.results.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </SelectField>
          <div className="field checkbox">
            <input
              id="recurring"
              type="checkbox"
              checked={draft.is_recurring}
              onChange={(e) => setDraft({ ...draft, is_recurring: e.target.checked })}
            />
            <label htmlFor="recurring">Recurring event</label>
          </div>
          {!editing && (
            <div className="field checkbox">
              <input
                id="publish"
                type="checkbox"
                checked={draft.is_active}
                onChange={(e) => setDraft({ ...draft, is_active: e.target.checked })}
              />
              <label htmlFor="publish">Publish now (otherwise only you see it until you publish it)</label>
            </div>
          )}
          <div className="actions">
            <button type="submit" className="primary" disabled={busy}>
              {editing ? 'Save changes' : 'Create event'}
            </button>
          </div>
        </form>
      )}
      {current && !cancelled && <PublishAndCancel event={current} onChange={() => event.reload(true)} />}
    </>
  );
}

/** Unpublish / publish again (reversible), and cancel (final, with how many attendees will be told). */
function PublishAndCancel({ event, onChange }: { event: Event; onChange: () => void }) {
  const action = useAction();
  const [confirming, setConfirming] = useState(false);
  const [toTell, setToTell] = useState<number | null>(null);

  const openCancel = async () => {
    setConfirming(true);
    setToTell(null);
    const count = async (status: 'registered' | 'waitlisted') => {
      const { data } = await api.GET('/events/{id}/registrations/', {
        params: { path: { id: event.id }, query: { status, page_size: 1 } },
      });
      return typeof data === 'object' && data ? data.count : 0;
    };
    const [registered, waitlisted] = await Promise.all([count('registered'), count('waitlisted')]);
    setToTell(registered + waitlisted);
  };

  const publish = async (isActive: boolean) => {
    const done = isActive
      ? `“${event.title}” is published: listed and open to registration.`
      : `“${event.title}” is unpublished: hidden from attendees and closed to registration; its registrations are kept.`;
    if (
      await action.run(() => api.PATCH('/events/{id}/edit/', { params: { path: { id: event.id } }, body: { is_active: isActive } }), done)
    )
      onChange();
  };

  const cancel = async () => {
    setConfirming(false);
    if (await action.run(() => api.DELETE('/events/{id}/edit/', { params: { path: { id: event.id } } }), `“${event.title}” is cancelled.`))
      onChange();
  };

  return (
    <section className="panel" aria-labelledby="event-state">
      <h2 id="event-state">Publishing</h2>
      {action.shown}
      <div className="actions">
        {event.is_active ? (
          <button type="button" disabled={action.busy} onClick={() => void publish(false)}>
            Unpublish
          </button>
        ) : (
          <button type="button" disabled={action.busy} onClick={() => void publish(true)}>
            Publish
          </button>
        )}
        <button type="button" className="danger" disabled={action.busy} onClick={() => void openCancel()}>
          Cancel event…
        </button>
      </div>
      <ConfirmDialog
        open={confirming}
        title={`Cancel “${event.title}”?`}
        confirmLabel="Cancel the event"
        onConfirm={() => void cancel()}
        onCancel={() => setConfirming(false)}
        busy={action.busy || toTell === null}
      >
        <p>
          {toTell === null
            ? 'Counting the attendees…'
            : `${plural(toTell, 'registration')} (registered or on the waiting list) will be cancelled and told by notification and mail.`}{' '}
          This cannot be undone.
        </p>
      </ConfirmDialog>
    </section>
  );
}
