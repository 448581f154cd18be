import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { useSearchParams } from 'react-router';
import { errorMessage } from '../api/client';
import type { ApiState } from '../lib/use-api';
import { LoadError, Loading, Notice } from './ui';

/** Filters and page of a list kept in the URL, so a link, a reload and Back show the same list. */
export function useUrlFilters<K extends string>(names: readonly K[]) {
  const [params, setParams] = useSearchParams();
  const read = (from: URLSearchParams) => Object.fromEntries(names.map((n) => [n, from.get(n) ?? ''])) as Record<K, string>;
  const applied = read(params);
  const page = Math.max(1, Number(params.get('page')) || 1);
  const key = params.toString();
  const [draft, setDraft] = useState(applied);
  // Back/forward or a shared link changes the URL: show its filters in the form.
  useEffect(() => setDraft(read(new URLSearchParams(key))), [key]);
  const go = (next: Partial<Record<K, string>> & { page?: number }) => {
    const merged = new URLSearchParams();
    const values: Record<string, string | undefined> = { ...applied, ...next };
    for (const name of names) if (values[name]) merged.set(name, values[name]!);
    if (next.page && next.page > 1) merged.set('page', String(next.page));
    setParams(merged);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    go({ ...draft, page: 1 });
  };
  const set = (name: K) => (e: { target: { value: string } }) => setDraft({ ...draft, [name]: e.target.value });
  const clear = () => setParams(new URLSearchParams());
  const any = names.some((n) => applied[n]);
  return { applied, page, key, draft, setDraft, set, go, submit, clear, any };
}

/** "true" / "false" / "" of a yes-no-any select, as the API's optional boolean. */
export const flag = (value: string) => (value === 'true' ? true : value === 'false' ? false : undefined);

export function Pager({ page, count, pageSize, go }: { page: number; count: number; pageSize: number; go: (page: number) => void }) {
  const pages = Math.max(1, Math.ceil(count / pageSize));
  if (pages <= 1) return null;
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" disabled={page <= 1} onClick={() => go(page - 1)}>
        Previous page
      </button>
      <span>
        Page {page} of {pages}
      </span>
      <button type="button" disabled={page >= pages} onClick={() => go(page + 1)}>
        Next page
      </button>
    </nav>
  );
}

export type Outcome = { kind: 'success' | 'error'; text: string } | null;

/**
 * Runs one change against the API and words its answer: `done` describes a success, the API's own error is shown
 * as it came (e.g. "You cannot deactivate yourself."). Returns whether it worked.
 */
export function useAction() {
  const [outcome, setOutcome] = useState<Outcome>(null);
  const [busy, setBusy] = useState(false);
  const run = async (call: () => Promise<{ error?: unknown; response: Response }>, done: string): Promise<boolean> => {
    setBusy(true);
    setOutcome(null);
    try {
      const { error, response } = await call();
      if (response.ok) {
        setOutcome({ kind: 'success', text: done });
        return true;
      }
      setOutcome({ kind: 'error', text: errorMessage(error) });
    } catch (err) {
      setOutcome({ kind: 'error', text: errorMessage(err) });
    } finally {
      setBusy(false);
    }
    return false;
  };
  const shown: ReactNode = outcome && <Notice kind={outcome.kind}>{outcome.text}</Notice>;
  return { run, busy, outcome, setOutcome, shown };
}

/** The Search and Clear filters buttons that end every admin filter form. */
export function FilterActions({ filters, label = 'Search' }: { filters: { any: boolean; clear: () => void }; label?: string }) {
  return (
    <div className="actions">
      <button type="submit" className="primary">
        {label}
      </button>
      {filters.any && (
        <button type="button" onClick={filters.clear}>
          Clear filters
        </button>
      )}
    </div>
  );
}

/** A list's results: loading, a failure with Try again, or the count and what `children` makes of the page. */
export function ListResults<T>({
  id,
  heading = 'Results',
  state,
  loadingText,
  count,
  children,
}: {
  id: string;
  heading?: string;
  state: ApiState<T>;
  loadingText: string;
  count: (data: T) => string;
  children: (data: T) => ReactNode;
}) {
  const { data } = state;
  return (
    <section aria-labelledby={id} aria-busy={state.loading}>
      <h2 id={id} className="visually-hidden">
        {heading}
      </h2>
      {state.loading && !data ? (
        <Loading what={loadingText} />
      ) : state.error ? (
        <LoadError message={state.error} retry={() => state.reload()} />
      ) : data ? (
        <>
          <p role="status" className="count">
            {count(data)}
          </p>
          {children(data)}
        </>
      ) : null}
    </section>
  );
}
