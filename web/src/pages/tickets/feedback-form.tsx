import { useEffect, useId, useState, type FormEvent } from 'react';
import { api, errorMessage, fieldErrors, type Feedback } from '../../api/client';
import { LoadError, Loading, Notice, TextAreaField } from '../../components/ui';
import { useSession } from '../../lib/session';
import { useApi } from '../../lib/use-api';

/** Rate an attended event 1–5 with a comment; the author can edit or delete it afterwards. */
export function FeedbackForm({ eventId, eventTitle }: { eventId: string; eventTitle: string }) {
  const { user } = useSession();
  const existing = useApi(
    () => api.GET('/feedbacks/', { params: { query: { event: eventId, user: user!.id } } }),
    `${eventId}:${user!.id}`,
  );
  const mine: Feedback | undefined = existing.data?.results[0];
  const [editing, setEditing] = useState(false);
  const [rating, setRating] = useState(0);
  const [comment, setComment] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [news, setNews] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();

  useEffect(() => {
    setRating(mine?.rating ?? 0);
    setComment(mine?.comment ?? '');
  }, [mine?.id, mine?.rating, mine?.comment]);

  if (existing.loading && !existing.data) return <Loading what="Loading your feedback" />;
  if (existing.error && !existing.data) return <LoadError message={existing.error} retry={() => existing.reload()} />;

  const act = async (action: () => Promise<{ error?: unknown; response: Response }>, done: string) => {
    setBusy(true);
    setNews(null);
    setErrors({});
    try {
      const { error, response } = await action();
      if (response.ok) {
        setNews({ kind: 'success', text: done });
        setEditing(false);
        existing.reload(true);
      } else {
        const fields = fieldErrors(error);
        setErrors(fields);
        if (!fields.rating && !fields.comment) setNews({ kind: 'error', text: errorMessage(error) });
      }
    } catch (err) {
      setNews({ kind: 'error', text: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!rating) return setErrors({ rating: 'Choose a rating from 1 to 5.' });
    void act(
      () =>
        mine
          ? api.PATCH('/feedbacks/{id}/', { params: { path: { id: mine.id } }, body: { rating, comment } })
          : api.POST('/feedbacks/', { body: { event: eventId, rating, comment } }),
      mine ? 'Feedback updated.' : 'Thank you for your feedback.',
    );
  };

  if (mine && !editing) {
    return (
      <div className="feedback-mine" aria-label={`Your feedback on ${eventTitle}`} role="group">
        <p>
          Your rating: <strong>{mine.rating} out of 5</strong>
        </p>
        {mine.comment && <p>{mine.comment}</p>}
        {news && <Notice kind={news.kind}>{news.text}</Notice>}
        <div className="actions">
          <button type="button" onClick={() => setEditing(true)}>
            Edit feedback
          </button>
          <button
            type="button"
            className="danger"
            disabled={busy}
            onClick={() => void act(() => api.DELETE('/feedbacks/{id}/', { params: { path: { id: mine.id } } }), 'Feedback deleted.')}
          >
            Delete feedback
          </button>
        </div>
      </div>
    );
  }

  return (
    <form className="feedback-form" onSubmit={submit} aria-label={`Feedback on ${eventTitle}`} noValidate>
      <fieldset aria-describedby={errors.rating ? `${id}-rating-error` : undefined}>
        <legend>Your rating</legend>
        <div className="rating">
          {[1, 2, 3, 4, 5].map((n) => (
            <label key={n}>
              <input type="radio" name={`${id}-rating`} value={n} checked={rating === n} onChange={() => setRating(n)} />
              {n}
            </label>
          ))}
        </div>
        {errors.rating && (
          <p id={`${id}-rating-error`} className="field-error">
            {errors.rating}
          </p>
        )}
      </fieldset>
      <TextAreaField
        label="Comment (optional)"
        value={comment}
        maxLength={5000}
        rows={3}
        onChange={(e) => setComment(e.target.value)}
        error={errors.comment}
      />
      {news && <Notice kind={news.kind}>{news.text}</Notice>}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {mine ? 'Save feedback' : 'Send feedback'}
        </button>
        {mine && (
          <button type="button" onClick={() => setEditing(false)}>
            Cancel editing
          </button>
        )}
      </div>
    </form>
  );
}
