import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase } from './database.js';

/**
 * A database for a spawned server process: in the PostgreSQL run a fresh database on the shared server (the
 * process never stops PostgreSQL itself), otherwise a DATA_DIR for the embedded database holding a copy of the
 * migrated one (global-setup.ts), or an empty one with `empty: true` (a first start: initdb and every migration).
 * `env` goes to startServer; call `remove()` after the processes using it have exited.
 */
export async function processDatabase(
  options: { empty?: boolean } = {},
): Promise<{ env: Record<string, string>; remove(): Promise<void> }> {
  if (process.env.TEST_DATABASE_URL) {
    const database = await createTestDatabase();
    return { env: { DATABASE_URL: database.url! }, remove: () => database.close() };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'api-data-'));
  if (!options.empty) fs.cpSync(process.env.TEST_PGLITE_FOLDER!, path.join(dir, 'pgdata'), { recursive: true });
  return { env: { DATA_DIR: dir }, remove: async () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface JsonResponse {
  status: number;
  body: Record<string, unknown>;
}

/** fetch() with a JSON body, answering status and parsed body (or `{}` for an empty one). */
export async function requestJson(
  baseUrl: string,
  method: string,
  url: string,
  options: { body?: unknown; token?: string } = {},
): Promise<JsonResponse> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const res = await fetch(`${baseUrl}${url}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Signs up through the API and logs in; answers the access token. */
export async function signUpAndLogin(baseUrl: string, name: string, isOrganizer = false): Promise<string> {
  const password = 'Sturdy-Passphrase-91';
  const signUp = await requestJson(baseUrl, 'POST', '/auth/register/', {
    body: { email: `${name}@example.com`, username: name, password, password2: password, is_organizer: isOrganizer },
  });
  if (signUp.status !== 201) throw new Error(`sign-up failed: ${signUp.status} ${JSON.stringify(signUp.body)}`);
  const login = await requestJson(baseUrl, 'POST', '/auth/login/', { body: { email: `${name}@example.com`, password } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return login.body.access as string;
}
