import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client.js';
import { findUserByLogin } from '../src/modules/users/users.repository.js';
import { processDatabase } from './helpers/process-database.js';

const run = promisify(execFile);
let target: Awaited<ReturnType<typeof processDatabase>>;

beforeAll(async () => {
  target = await processDatabase();
});
afterAll(async () => target.remove());

const createsuperuser = (args: string[], env: Record<string, string>) =>
  run(process.execPath, ['--import', 'tsx', 'scripts/createsuperuser.ts', ...args], {
    env: { ...process.env, DATABASE_URL: '', ...target.env, ...env },
  });

it('creates a staff user from the command line, and refuses a weak password', async () => {
  const { stdout } = await createsuperuser(['--email', 'Admin@Example.com', '--username', 'admin', '--password-env', 'ADMIN_PW'], {
    ADMIN_PW: 'Staff-Secret-2030',
  });
  expect(stdout).toContain('Superuser created: admin');

  const weak = createsuperuser(['--email', 'other@example.com', '--username', 'other', '--password-env', 'ADMIN_PW'], {
    ADMIN_PW: '12345678',
  });
  await expect(weak).rejects.toMatchObject({ stderr: expect.stringContaining('password') });

  const database = await openDatabase({ databaseUrl: target.env.DATABASE_URL ?? '', dataDir: target.env.DATA_DIR ?? '' });
  try {
    const user = await findUserByLogin(database.db, 'admin@example.com');
    expect(user).toMatchObject({ username: 'admin', isStaff: true, isActive: true });
    expect(await findUserByLogin(database.db, 'other')).toBeUndefined();
  } finally {
    await database.close();
  }
}, 60_000);
