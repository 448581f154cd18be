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
 */
export class SignedInUsers {
  private readonly cache: LRUCache<string, UserRow> | undefined;

  constructor(
    /** Reads the user row (users.repository's findUserById on the app's database). */
    private readonly load: (id: string) => Promise<UserRow | undefined>,
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
    const row = await this.load(id);
    if (row?.isActive) this.cache?.set(id, row);
    return row;
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
