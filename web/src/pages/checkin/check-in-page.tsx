import { lazy, Suspense, useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { api, errorMessage, hasStoredSession, restoreSession } from '../../api/client';
import { Loading, Notice, useTitle } from '../../components/ui';
import { formatDateTime, newIdempotencyKey, plural } from '../../lib/format';
import { useEventActivity } from '../../lib/live';
import { useSession } from '../../lib/session';
import { canOrganize } from '../organizer/organizer-ui';
import type { EventStats } from '../organizer/my-events-page';
import { sendScan } from './door';
import { pruneScans, saveScan, scansOf, type Outcome, type Scan } from './scan-queue';
import { cacheForOffline } from './offline';

// The QR library is loaded only when the camera is switched on, so /app/ stays small.
const CameraScanner = lazy(() => import('./camera-scanner'));

/** The last known title and numbers, shown while offline (kept per event in localStorage). */
interface Known {
  title: string;
  stats: EventStats | null;
}
const knownKey = (id: string) => `check-in:${id}`;
function readKnown(id: string): Known | null {
  try {
    return JSON.parse(localStorage.getItem(knownKey(id)) ?? 'null') as Known | null;
  } catch {
    return null;
  }
}
function writeKnown(id: string, known: Known) {
  try {
    localStorage.setItem(knownKey(id), JSON.stringify(known));
  } catch {
    // Storage full or disabled: the numbers are simply not kept for offline.
  }
}

function useOnline() {
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => {
    const on = () => setOnline(true);
    const off = () => setOnline(false);
    window.addEventListener('online', on);
    window.addEventListener('offline', off);
    return () => {
      window.removeEventListener('online', on);
      window.removeEventListener('offline', off);
    };
  }, []);
  return online;
}

const QUEUED: Outcome = { kind: 'queued', title: 'Queued', detail: 'No network: kept on this device and sent when it returns.' };
/** A camera keeps seeing the ticket it just read; the same code is read again only after this pause. */
const SAME_CODE_PAUSE_MS = 3000;
const RETRY_MS = 10_000;

/**
 * The door: a phone held at the entrance. Codes come from the camera, a hardware scanner (types the code and
 * Enter into the focused field) or the keyboard; each answer is shown large, in colour and words. Without network
 * the scans wait on the device and go out in order when it returns.
 */
export function CheckInPage() {
  const { id = '' } = useParams();
  const { user, restoring } = useSession();
  const online = useOnline();
  const [known, setKnown] = useState<Known | null>(() => readKnown(id));
  const [access, setAccess] = useState<'unknown' | 'allowed' | 'forbidden' | 'missing'>('unknown');
  const [scans, setScans] = useState<Scan[]>([]);
  const [current, setCurrent] = useState<{ scan: Scan; outcome: Outcome } | null>(null);
  const [code, setCode] = useState('');
  const [camera, setCamera] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [sessionOver, setSessionOver] = useState(false);
  const [offlineReady, setOfflineReady] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const flushing = useRef(false);
  const lastCamera = useRef<{ code: string; at: number } | null>(null);
  useTitle(`Check-in · ${known?.title ?? 'Event'}`);

  const refreshScans = useCallback(async () => {
    try {
      setScans(await scansOf(id));
    } catch (err) {
      setProblem(`This device cannot keep scans offline: ${errorMessage(err)}`);
    }
  }, [id]);

  const loadNumbers = useCallback(async () => {
    try {
      const [event, stats] = await Promise.all([
        api.GET('/events/{id}/', { params: { path: { id } } }),
        api.GET('/events/{id}/stats/', { params: { path: { id } } }),
      ]);
      if (stats.response.status === 403) return setAccess('forbidden');
      if (event.response.status === 404 || stats.response.status === 404) return setAccess('missing');
      if (event.data && stats.data) {
        const next = { title: event.data.title, stats: stats.data };
        setKnown(next);
        writeKnown(id, next);
        setAccess('allowed');
      }
    } catch {
      // Offline: the last known numbers stay on screen.
    }
  }, [id]);

  /** Sends queued scans, oldest first, one at a time; stops at the first that gets no answer. */
  const flush = useCallback(async () => {
    if (flushing.current) return;
    flushing.current = true;
    try {
      for (const scan of (await scansOf(id)).filter((s) => s.state === 'queued')) {
        const sent = await sendScan(scan);
        if (!sent.answered) {
          if (sent.sessionOver) setSessionOver(true);
          break;
        }
        const answered: Scan = { ...scan, state: 'done', outcome: sent.outcome };
        await saveScan(answered);
        setCurrent((shown) => (shown?.scan.id === scan.id ? { scan: answered, outcome: sent.outcome } : shown));
        await refreshScans();
      }
      await pruneScans(id);
    } catch (err) {
      setProblem(errorMessage(err));
    } finally {
      flushing.current = false;
      await refreshScans();
      void loadNumbers();
    }
  }, [id, refreshScans, loadNumbers]);

  useEffect(() => {
    void refreshScans();
  }, [refreshScans]);

  useEffect(() => {
    if (user && online) {
      void loadNumbers();
      void flush();
    }
  }, [user, online, loadNumbers, flush]);

  // Back online after a reload without network: bring the session back, which sends the queue (above).
  useEffect(() => {
    if (online && !user && !restoring && hasStoredSession()) void restoreSession();
  }, [online, user, restoring]);

  // A network that drops without the browser noticing: try the queue again now and then.
  useEffect(() => {
    if (!scans.some((s) => s.state === 'queued')) return;
    const timer = setInterval(() => navigator.onLine && void flush(), RETRY_MS);
    return () => clearInterval(timer);
  }, [scans, flush]);

  useEffect(() => {
    if (access === 'allowed') void cacheForOffline().then(setOfflineReady);
  }, [access]);

  useEventActivity((ids) => {
    if (ids === 'all' || ids.has(id)) void loadNumbers();
  });

  const scan = async (raw: string) => {
    const text = raw.trim().toUpperCase();
    if (!text) return;
    const entry: Scan = { id: newIdempotencyKey(), eventId: id, code: text, scannedAt: new Date().toISOString(), state: 'queued' };
    setCurrent({ scan: entry, outcome: { kind: 'pending', title: 'Checking…', detail: text } });
    try {
      await saveScan(entry);
    } catch {
      // No IndexedDB (private mode in some browsers): the scan is still sent, just not kept offline.
    }
    const sent = navigator.onLine && user ? await sendScan(entry) : ({ answered: false } as const);
    if (sent.answered) {
      const answered: Scan = { ...entry, state: 'done', outcome: sent.outcome };
      await saveScan(answered).catch(() => undefined);
      setCurrent({ scan: answered, outcome: sent.outcome });
      void loadNumbers();
    } else {
      if ('sessionOver' in sent && sent.sessionOver) setSessionOver(true);
      setCurrent({ scan: entry, outcome: QUEUED });
    }
    await refreshScans();
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const value = code;
    setCode('');
    void scan(value).finally(() => input.current?.focus());
  };

  const scanRef = useRef(scan);
  scanRef.current = scan;
  const fromCamera = useCallback((text: string) => {
    const now = Date.now();
    const last = lastCamera.current;
    if (last && last.code === text && now - last.at < SAME_CODE_PAUSE_MS) return;
    lastCamera.current = { code: text, at: now };
    void scanRef.current(text);
  }, []);

  if (restoring) return <Loading what="Restoring your session" />;
  // A tab holding a session works on while it cannot be restored (offline) or is being restored (back online).
  if (!user && !hasStoredSession()) {
    return (
      <section className="narrow">
        <h1>Door check-in</h1>
        <p>
          <Link to={`/login?next=${encodeURIComponent(`/check-in/${id}`)}`}>Log in</Link> as the event’s organizer to check tickets in.
        </p>
      </section>
    );
  }
  if ((user && !canOrganize(user)) || access === 'forbidden') {
    return (
      <section className="narrow">
        <h1>Not allowed</h1>
        <p>Only the organizer of this event and staff can check its tickets in.</p>
      </section>
    );
  }
  if (access === 'missing') {
    return (
      <section className="narrow">
        <h1>Event not found</h1>
        <p>
          <Link to="/organizer">Back to my events</Link>
        </p>
      </section>
    );
  }

  const queued = scans.filter((s) => s.state === 'queued').length;
  const stats = known?.stats;
  return (
    <div className="door">
      <h1>Check-in: {known?.title ?? '…'}</h1>
      <p className="door-count" aria-live="polite">
        {stats ? `Checked in ${stats.checked_in_count} of ${stats.registered_count}` : 'Counting…'}
      </p>
      {!online && (
        <Notice kind="info">
          Offline: scans are kept on this device{queued ? ` (${plural(queued, 'scan')} queued)` : ''} and sent when the network returns.
        </Notice>
      )}
      {online && queued > 0 && <Notice kind="info">Sending {plural(queued, 'queued scan')}…</Notice>}
      {sessionOver && <Notice kind="error">Your session has ended: log in again to send the queued scans.</Notice>}
      {problem && <Notice kind="error">{problem}</Notice>}
      <div className={`door-result door-${current ? current.outcome.kind : 'idle'}`} role="status" aria-live="assertive">
        {current ? (
          <>
            <p className="door-title">{current.outcome.title}</p>
            <p className="door-detail">{current.outcome.detail}</p>
            <p className="hint">{current.scan.code}</p>
          </>
        ) : (
          <p className="door-detail">Ready: scan a ticket.</p>
        )}
      </div>
      <form className="door-form" onSubmit={submit}>
        <label htmlFor="door-code">Ticket code</label>
        <div className="door-input">
          <input
            id="door-code"
            ref={input}
            value={code}
            onChange={(e) => setCode(e.target.value)}
            autoFocus
            autoComplete="off"
            autoCapitalize="characters"
            spellCheck={false}
            enterKeyHint="go"
            placeholder="EVT-…"
          />
          <button type="submit" className="primary">
            Check in
          </button>
        </div>
        <p className="hint">A hardware scanner types the code and Enter here; this field stays ready for the next one.</p>
      </form>
      <div className="actions">
        <button type="button" aria-pressed={camera} onClick={() => setCamera(!camera)}>
          {camera ? 'Stop the camera' : 'Use the camera'}
        </button>
        <Link to={`/organizer/events/${id}/attendees`}>Attendees</Link>
      </div>
      {offlineReady && <p className="hint">Ready to work offline: this page reloads and keeps scans without network.</p>}
      {camera && (
        <Suspense fallback={<Loading what="Starting the camera" />}>
          <CameraScanner onCode={fromCamera} />
        </Suspense>
      )}
      <section aria-labelledby="recent-scans">
        <h2 id="recent-scans">Recent scans</h2>
        {scans.length === 0 ? (
          <p className="hint">None yet.</p>
        ) : (
          <ol className="scan-list" reversed>
            {[...scans].reverse().map((s) => (
              <li key={s.id} className={`scan scan-${s.state === 'queued' ? 'queued' : s.outcome?.kind}`}>
                <code>{s.code}</code> <span className="status">{s.state === 'queued' ? 'Queued' : s.outcome?.title}</span>{' '}
                <span className="hint">
                  scanned {formatDateTime(s.scannedAt)}
                  {s.outcome ? ` · ${s.outcome.detail}` : ''}
                </span>
              </li>
            ))}
          </ol>
        )}
      </section>
    </div>
  );
}
