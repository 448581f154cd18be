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
  /** Each user with when it was read (ms on the clock); fresh while younger than `ttlMs`. */
  private readonly cache: LRUCache<string, { row: UserRow; readAt: number }> | undefined;

  /** Users asked for while a read runs, with whoever waits for each. */
  private waiting = new Map<string, Array<{ resolve: (row: UserRow | undefined) => void; reject: (error: unknown) => void }>>();
  private reading = false;

  constructor(
    /** Reads user rows (users.repository's findUsersByIds on the app's database). */
    private readonly load: (ids: string[]) => Promise<UserRow[]>,
    private readonly ttlMs: number,
    private readonly clock: { now(): Date },
  ) {
    if (ttlMs > 0) {
      // The lifetime is checked here against the caller's clock reading, not by lru-cache's TTL, which reads a
      // clock on every get (a signed-in request already has the time: issue 18).
      this.cache = new LRUCache({ max: 50_000 });
      everyCache.add(new WeakRef(this.cache));
    }
  }

  /** The user if it was read less than `ttlMs` before `nowMs`, without waiting; otherwise undefined (ask `find`). */
  cached(id: string, nowMs: number): UserRow | undefined {
    const entry = this.cache?.get(id);
    return entry && nowMs - entry.readAt < this.ttlMs ? entry.row : undefined;
  }

  async find(id: string): Promise<UserRow | undefined> {
    const cached = this.cached(id, this.clock.now().getTime());
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
      const readAt = this.clock.now().getTime();
      try {
        const rows = new Map((await this.load([...batch.keys()])).map((row) => [row.id, row]));
        for (const [id, waiters] of batch) {
          const row = rows.get(id);
          if (row?.isActive) this.cache?.set(id, { row, readAt });
          for (const waiter of waiters) waiter.resolve(row);
        }
      } catch (error) {
        for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
      }
    }
    this.reading = false;
  }
}

const everyCache = new Set<WeakRef<LRUCache<string, { row: UserRow; readAt: number }>>>();

/** Forgets a user in every process-local cache (the user row changed). */
export function forgetSignedInUser(id: string): void {
  for (const ref of everyCache) {
    const cache = ref.deref();
    if (cache) cache.delete(id);
    else everyCache.delete(ref);
  }
}
