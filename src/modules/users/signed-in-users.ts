import { LRUCache } from 'lru-cache';
import type { UserRow } from './users.repository.js';

/**
 * The users behind access tokens, each read from the database at most once per `ttlMs` in a process: every
 * signed-in request needs its user (is it still active? staff? organizer?), and that read was half the database
 * work of a signed-in page. A change made through this process (users.repository's updateUser) evicts the user
 * from every cache at once; a change made by another process shows here within `ttlMs` (AUTH_CACHE_MS, default
 * 1 s, the same bound as the public page cache), and so does one racing a request of this process that read the
 * row just before the change committed. Users not found or inactive are not kept: they are refused
 * anyway and asked again each time.
 *
 * Reads are batched: the users asked for while one read runs are read together by the next one (one statement,
 * `id = any(…)`), so a ticket drop of thousands of users signing in at once costs a few reads, not one each.
 */
export class SignedInUsers {
  private readonly cache: LRUCache<string, UserRow> | undefined;

  /** Users asked for while a read runs, with whoever waits for each. */
  private waiting = new Map<string, Array<{ resolve: (row: UserRow | undefined) => void; reject: (error: unknown) => void }>>();
  private reading = false;

  constructor(
    /** Reads user rows (users.repository's findUsersByIds on the app's database). */
    private readonly load: (ids: string[]) => Promise<UserRow[]>,
    ttlMs: number,
    clock: { now(): Date },
  ) {
    if (ttlMs > 0) {
      this.cache = new LRUCache({ max: 50_000, ttl: ttlMs, ttlResolution: 0, perf: { now: () => clock.now().getTime() } });
      everyCache.add(new WeakRef(this.cache));
    }
  }

  async find(id: string): Promise<UserRow | undefined> {
    const cached = this.cache?.get(id);
    if (cached) return cached;
    return new Promise((resolve, reject) => {
      const waiters = this.waiting.get(id);
      if (waiters) waiters.push({ resolve, reject });
      else this.waiting.set(id, [{ resolve, reject }]);
      if (!this.reading) void this.readWaiting();
    });
  }

  private async readWaiting(): Promise<void> {
    this.reading = true;
    while (this.waiting.size > 0) {
      const batch = this.waiting;
      this.waiting = new Map();
      try {
        const rows = new Map((await this.load([...batch.keys()])).map((row) => [row.id, row]));
        for (const [id, waiters] of batch) {
          const row = rows.get(id);
          if (row?.isActive) this.cache?.set(id, row);
          for (const waiter of waiters) waiter.resolve(row);
        }
      } catch (error) {
        for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
      }
    }
    this.reading = false;
  }
}

const everyCache = new Set<WeakRef<LRUCache<string, UserRow>>>();

/** Forgets a user in every process-local cache (the user row changed). */
export function forgetSignedInUser(id: string): void {
  for (const ref of everyCache) {
    const cache = ref.deref();
    if (cache) cache.delete(id);
    else everyCache.delete(ref);
  }
}
