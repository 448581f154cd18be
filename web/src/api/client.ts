// The thin hand-written layer over the generated client: the session (tokens), renewal, and error wording.
import createClient from 'openapi-fetch';
import type { paths } from './schema';

type Json<P extends keyof paths, M extends 'get' | 'post', C extends number = 200> = paths[P][M] extends {
  responses: { [K in C]: { content: { 'application/json': infer T } } };
}
  ? T
  : never;

export type Event = Json<'/events/{id}/', 'get'>;
export type Registration = Json<'/registrations/', 'post', 201>;
export type Ticket = Registration['ticket_instances'][number];
export type Notification = Json<'/notifications/', 'get'>['results'][number];
export type Feedback = Json<'/feedbacks/', 'get'>['results'][number];
export type Category = Json<'/categories/', 'get'>['results'][number];
export type User = Json<'/auth/me/', 'get'>;

/**
 * Where the tokens live: the access token (5 minutes) only in this module's memory; the refresh token in
 * sessionStorage, so a reload keeps the session while closing the tab ends it. Nothing is a cookie, so no other
 * site can make the browser send them (no CSRF). Script injection is what could read them: the CSP allows only
 * this app's own scripts, React escapes all text, and refresh tokens rotate on every use with replay detection
 * (a stolen, already-used token revokes its whole family). One tab = one token family: tabs never race a rotation.
 */
const REFRESH_KEY = 'tickets.refresh';

interface SessionState {
  user: User | null;
  /** True until the stored refresh token (if any) has been tried at start-up. */
  restoring: boolean;
}

let accessToken: string | null = null;
let state: SessionState = { user: null, restoring: true };
const listeners = new Set<() => void>();

function setState(next: Partial<SessionState>) {
  state = { ...state, ...next };
  for (const listener of listeners) listener();
}

export const session = {
  get: () => state,
  subscribe(listener: () => void) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

function storedRefresh(): string | null {
  try {
    return sessionStorage.getItem(REFRESH_KEY);
  } catch {
    return null;
  }
}

function storeTokens(pair: { access: string; refresh: string } | null) {
  accessToken = pair?.access ?? null;
  try {
    if (pair) sessionStorage.setItem(REFRESH_KEY, pair.refresh);
    else sessionStorage.removeItem(REFRESH_KEY);
  } catch {
    // Storage disabled: the session lasts as long as the page.
  }
}

/** Seconds left on a JWT (its `exp`), or 0 when unreadable. */
function secondsLeft(token: string): number {
  try {
    const payload = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: number };
    return (payload.exp ?? 0) - Date.now() / 1000;
  } catch {
    return 0;
  }
}

let renewing: Promise<boolean> | null = null;

/** Trades the refresh token for a new pair (the old one stops working). One renewal at a time. */
function renew(): Promise<boolean> {
  renewing ??= (async () => {
    const refresh = storedRefresh();
    if (!refresh) return false;
    try {
      const res = await fetch('/auth/token/refresh/', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh }),
      });
      if (res.ok) {
        storeTokens((await res.json()) as { access: string; refresh: string });
        return true;
      }
      // Refused (expired, revoked, replayed): the session is over. A network failure keeps the token to retry.
      if (res.status === 400 || res.status === 401) {
        storeTokens(null);
        setState({ user: null });
      }
      return false;
    } catch {
      return false;
    } finally {
      renewing = null;
    }
  })();
  return renewing;
}

async function authorizedFetch(request: Request): Promise<Response> {
  if (request.url.includes('/auth/token/refresh/')) return fetch(request);
  if (storedRefresh() && (!accessToken || secondsLeft(accessToken) < 20)) await renew();
  const retry = request.clone();
  const send = (req: Request) => {
    if (accessToken) req.headers.set('authorization', `Bearer ${accessToken}`);
    return fetch(req);
  };
  const response = await send(request);
  if (response.status === 401 && storedRefresh() && (await renew())) return send(retry);
  return response;
}

export const api = createClient<paths>({ baseUrl: '', fetch: authorizedFetch });

export async function logIn(login: string, password: string): Promise<{ ok: true } | { ok: false; error: unknown }> {
  const body = login.includes('@') ? { email: login, password } : { username: login, password };
  const { data, error } = await api.POST('/auth/login/', { body });
  if (!data) return { ok: false, error };
  storeTokens(data);
  await loadUser();
  return { ok: true };
}

export async function logOut(): Promise<void> {
  const refresh = storedRefresh();
  storeTokens(null);
  setState({ user: null });
  if (refresh) await api.POST('/auth/logout/', { body: { refresh } }).catch(() => undefined);
}

export async function loadUser(): Promise<void> {
  const { data } = await api.GET('/auth/me/');
  setState({ user: data ?? null, restoring: false });
}

/** At start-up: a stored refresh token (this tab, before a reload) brings the session back. */
export async function restoreSession(): Promise<void> {
  if (storedRefresh() && (await renew())) await loadUser();
  setState({ restoring: false });
}

/** Whether this tab holds a session it could bring back (a refresh token): true offline, before it can be used. */
export const hasStoredSession = () => storedRefresh() !== null;

export function setUser(user: User) {
  setState({ user });
}

/** The API's error in words: `detail`, or the messages of a validation error, or the HTTP status. */
export function errorMessage(error: unknown, fallback = 'Something went wrong. Please try again.'): string {
  if (error && typeof error === 'object') {
    const record = error as Record<string, unknown>;
    if (typeof record.detail === 'string') return record.detail;
    const messages = Object.entries(record).flatMap(([field, value]) => {
      const list = Array.isArray(value) ? value : [value];
      const label = field === 'non_field_errors' ? '' : `${field.replace(/_/g, ' ')}: `;
      return list.filter((m): m is string => typeof m === 'string').map((m) => label + m);
    });
    if (messages.length) return messages.join(' ');
  }
  if (error instanceof Error) return 'The server could not be reached. Check your connection and try again.';
  return fallback;
}

/** Per-field messages of a 400, for showing next to the fields. */
export function fieldErrors(error: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!error || typeof error !== 'object' || 'detail' in error) return out;
  for (const [field, value] of Object.entries(error as Record<string, unknown>)) {
    const list = Array.isArray(value) ? value : [value];
    out[field] = list.filter((m) => typeof m === 'string').join(' ');
  }
  return out;
}
