import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.js';
import { SignedInUsers, forgetSignedInUser } from '../src/modules/users/signed-in-users.js';
import type { UserRow } from '../src/modules/users/users.repository.js';

const user = (id: string, isActive = true) => ({ id, isActive }) as UserRow;

describe('SignedInUsers', () => {
  it('reads the users asked for at once together, and each caller gets its own', async () => {
    const reads: string[][] = [];
    const users = new SignedInUsers(
      async (ids) => {
        reads.push(ids);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return ids.filter((id) => !id.startsWith('gone')).map((id) => user(id, !id.startsWith('off')));
      },
      1000,
      new ManualClock(),
    );
    const ids = Array.from({ length: 50 }, (_, i) => (i % 10 === 9 ? `gone-${i}` : i % 10 === 8 ? `off-${i}` : `u-${i}`));
    const found = await Promise.all([...ids, ...ids].map((id) => users.find(id)));
    // The first read takes the first caller's user; everyone who asked meanwhile is in the second.
    expect(reads.length).toBe(2);
    expect(new Set(reads.flat())).toEqual(new Set(ids));
    expect(found.map((row) => row?.id)).toEqual([...ids, ...ids].map((id) => (id.startsWith('gone') ? undefined : id)));
    // Active users are kept; the inactive and the missing are asked again.
    await users.find('u-0');
    await users.find('off-8');
    await users.find('gone-9');
    expect(reads.slice(2)).toEqual([['off-8'], ['gone-9']]);
  });

  it('keeps a user for its lifetime on the clock, and forgets it at once when told', async () => {
    const clock = new ManualClock();
    let reads = 0;
    const users = new SignedInUsers(
      async (ids) => {
        reads++;
        return ids.map((id) => user(id));
      },
      1000,
      clock,
    );
    await users.find('a');
    await users.find('a');
    expect(reads).toBe(1);
    clock.advance(1001);
    await users.find('a');
    expect(reads).toBe(2);
    forgetSignedInUser('a');
    await users.find('a');
    expect(reads).toBe(3);
  });

  it('answers `cached` without a read while the user is fresh at the given time, and not after', async () => {
    const clock = new ManualClock();
    let reads = 0;
    const users = new SignedInUsers(
      async (ids) => {
        reads++;
        return ids.map((id) => user(id, id !== 'off'));
      },
      1000,
      clock,
    );
    const readAt = clock.now().getTime();
    expect(users.cached('a', readAt)).toBeUndefined();
    await users.find('a');
    await users.find('off');
    expect(users.cached('a', readAt + 999)?.id).toBe('a');
    expect(users.cached('a', readAt + 1000)).toBeUndefined();
    expect(users.cached('off', readAt)).toBeUndefined();
    expect(reads).toBe(2);
  });

  it('fails the callers of a failed read only, and reads again for the next ones', async () => {
    let fail = true;
    const users = new SignedInUsers(
      async (ids) => {
        if (fail) throw new Error('database down');
        return ids.map((id) => user(id));
      },
      1000,
      new ManualClock(),
    );
    await expect(users.find('a')).rejects.toThrow('database down');
    fail = false;
    await expect(users.find('a')).resolves.toMatchObject({ id: 'a' });
  });
});
