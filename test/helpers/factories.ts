import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { hashPassword } from '../../src/lib/passwords.js';
import { insertUser, type UserRow } from '../../src/modules/users/users.repository.js';

export const DEFAULT_PASSWORD = 'Correct-Horse-42';
let defaultHash: Promise<string> | undefined;

const unique = () => randomBytes(5).toString('hex');

export interface TestUser extends UserRow {
  /** Authorization header value with a fresh access token. */
  auth: { authorization: string };
}

/** Inserts a user directly (the sign-up route has its own tests) and returns it with a bearer header. */
export async function createUser(
  app: FastifyInstance,
  overrides: { email?: string; username?: string; isOrganizer?: boolean; isStaff?: boolean; isActive?: boolean } = {},
): Promise<TestUser> {
  const id = unique();
  const row = await insertUser(app.db, {
    email: overrides.email ?? `user-${id}@example.com`,
    username: overrides.username ?? `user_${id}`,
    passwordHash: await (defaultHash ??= hashPassword(DEFAULT_PASSWORD)),
    isOrganizer: overrides.isOrganizer ?? false,
    isStaff: overrides.isStaff ?? false,
    isActive: overrides.isActive ?? true,
    dateJoined: app.clock.now(),
  });
  return { ...row, auth: authHeader(app, row.id) };
}

export const createOrganizer = (app: FastifyInstance) => createUser(app, { isOrganizer: true });
export const createStaff = (app: FastifyInstance) => createUser(app, { isStaff: true, isOrganizer: true });

export function authHeader(app: FastifyInstance, userId: string): { authorization: string } {
  return { authorization: `Bearer ${app.tokens.issue('access', userId, app.clock.now()).token}` };
}
