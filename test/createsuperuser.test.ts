import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/client.js';
import { findUserByLogin } from '../src/modules/users/users.repository.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

const run = promisify(execFile);
let target: { env: Record<string, string>; open: () => Promise<Database>; cleanup: () => Promise<void> };
let testDb: TestDatabase | undefined;

beforeAll(async () => {
  if (process.env.TEST_DATABASE_URL) {
    testDb = await createTestDatabase();
    target = { env: { DATABASE_URL: testDb.url! }, open: async () => testDb!, cleanup: () => testDb!.close() };
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'superuser-'));
    target = {
      env: { DATA_DIR: dir, DATABASE_URL: '' },
      open: () => openDatabase({ databaseUrl: '', dataDir: dir }),
      cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
});
afterAll(async () => target.cleanup());

const createsuperuser = (args: string[], env: Record<string, string>) =>
  run(process.execPath, ['--import', 'tsx', 'scripts/createsuperuser.ts', ...args], {
    env: { ...process.env, ...target.env, ...env },
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

  const database = await target.open();
  try {
    const user = await findUserByLogin(database.db, 'admin@example.com');
    expect(user).toMatchObject({ username: 'admin', isStaff: true, isActive: true });
    expect(await findUserByLogin(database.db, 'other')).toBeUndefined();
  } finally {
    if (!testDb) await database.close();
  }
}, 60_000);
