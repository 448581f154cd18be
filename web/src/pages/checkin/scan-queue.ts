/**
 * The door's scans, kept on the device in IndexedDB: a scan made while the network is down waits here ("queued")
 * with the time it was made, survives a reload, and is sent in scan order when the network returns. Each scan has
 * its own id, sent as the Idempotency-Key, so a scan retried after a lost answer is never counted twice.
 */

export type OutcomeKind = 'admitted' | 'already' | 'cancelled' | 'unknown' | 'wrong_event' | 'not_allowed' | 'queued' | 'pending';

export interface Outcome {
  kind: OutcomeKind;
  /** One or two words, shown large. */
  title: string;
  /** The rest: who, which seat, when, by whom. */
  detail: string;
}

export interface Scan {
  id: string;
  eventId: string;
  code: string;
  /** When it was scanned at the door (ISO, UTC). */
  scannedAt: string;
  state: 'queued' | 'done';
  outcome?: Outcome;
}

const DB_NAME = 'door-check-in';
const STORE = 'scans';
/** Scans kept per event once answered: enough for the list on screen. */
const KEEP_DONE = 50;

let opening: Promise<IDBDatabase> | null = null;

function openDb(): Promise<IDBDatabase> {
  opening ??= new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      const store = request.result.createObjectStore(STORE, { keyPath: 'id' });
      store.createIndex('byEvent', ['eventId', 'scannedAt']);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => {
      opening = null;
      reject(request.error ?? new Error('IndexedDB is not available.'));
    };
  });
  return opening;
}

function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed.'));
  });
}

async function store(mode: IDBTransactionMode): Promise<IDBObjectStore> {
  return (await openDb()).transaction(STORE, mode).objectStore(STORE);
}

export async function saveScan(scan: Scan): Promise<void> {
  await done((await store('readwrite')).put(scan));
}

/** The event's scans in scan order, oldest first. */
export async function scansOf(eventId: string): Promise<Scan[]> {
  const range = IDBKeyRange.bound([eventId, ''], [eventId, '\uffff']);
  return done((await store('readonly')).index('byEvent').getAll(range) as IDBRequest<Scan[]>);
}

/** Forgets answered scans beyond the newest KEEP_DONE of the event (queued ones are always kept). */
export async function pruneScans(eventId: string): Promise<void> {
  const answered = (await scansOf(eventId)).filter((s) => s.state === 'done');
  const old = answered.slice(0, Math.max(0, answered.length - KEEP_DONE));
  if (old.length === 0) return;
  const scans = await store('readwrite');
  await Promise.all(old.map((s) => done(scans.delete(s.id))));
}
