import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage } from '../api/client';

export interface ApiState<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  /** Loads again; `quiet` keeps the current data on screen (background refresh). */
  reload: (quiet?: boolean) => void;
}

/**
 * Runs `load` when `key` changes and on reload(); the answer of an older call never overwrites a newer one.
 * `load` returns openapi-fetch's `{ data, error }`.
 */
export function useApi<T>(load: () => Promise<{ data?: T; error?: unknown }>, key: string): ApiState<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const run = useCallback((quiet: boolean) => {
    const mine = ++generation.current;
    if (!quiet) setLoading(true);
    loadRef
      .current()
      .then(
        (result) => {
          if (mine !== generation.current) return;
          if (result.data !== undefined) {
            setData(result.data);
            setError(null);
          } else setError(errorMessage(result.error));
        },
        (err: unknown) => mine === generation.current && setError(errorMessage(err)),
      )
      .finally(() => mine === generation.current && setLoading(false));
  }, []);

  useEffect(() => {
    run(false);
  }, [key, run]);

  const reload = useCallback((quiet = false) => run(quiet), [run]);
  return { data, error, loading, reload };
}
