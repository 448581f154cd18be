import { and, asc, count, eq, ne, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { preparedPerDb } from '../../db/prepared.js';
import { users } from '../../db/schema.js';
import { forgetSignedInUser } from './signed-in-users.js';

export type UserRow = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;

// Every authenticated request reads its user: prepared, so neither Drizzle nor PostgreSQL rebuilds the query.
const userById = preparedPerDb((db) =>
  db
    .select()
    .from(users)
    .where(eq(users.id, sql.placeholder('id')))
    .limit(1)
    .prepare('user_by_id'),
);

export async function findUserById(db: Db, id: string): Promise<UserRow | undefined> {
  const [row] = await userById(db).execute({ id });
  return row;
}

// The users behind a batch of signed-in requests (signed-in-users.ts), in one statement.
const usersByIds = preparedPerDb((db) =>
  db
    .select()
    .from(users)
    .where(sql`${users.id} = any(${sql.placeholder('ids')}::uuid[])`)
    .prepare('users_by_ids'),
);

export async function findUsersByIds(db: Db, ids: string[]): Promise<UserRow[]> {
  return usersByIds(db).execute({ ids: `{${ids.join(',')}}` });
}

/**
 * Login accepts the email or the username, both compared case-insensitively. A username may look like an email,
 * so an exact email match wins over a username match.
 */
export async function findUserByLogin(db: Db, identifier: string): Promise<UserRow | undefined> {
  const lowered = identifier.toLowerCase();
  const [row] = await db
    .select()
    .from(users)
    .where(or(sql`lower(${users.email}) = ${lowered}`, sql`lower(${users.username}) = ${lowered}`))
    .orderBy(sql`lower(${users.email}) = ${lowered} desc`)
    .limit(1);
  return row;
}

/** The account with this address (case-insensitive), whatever its username. */
export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  const [row] = await db
    .select()
    .from(users)
    .where(sql`lower(${users.email}) = ${email.toLowerCase()}`)
    .limit(1);
  return row;
}

/** Which of email/username are already taken by someone other than `exceptUserId`. */
export async function findTakenIdentity(
  db: Db,
  values: { email?: string; username?: string },
  exceptUserId?: string,
): Promise<{ emailTaken: boolean; usernameTaken: boolean }> {
  const conditions = [];
  if (values.email) conditions.push(sql`lower(${users.email}) = ${values.email.toLowerCase()}`);
  if (values.username) conditions.push(sql`lower(${users.username}) = ${values.username.toLowerCase()}`);
  if (conditions.length === 0) return { emailTaken: false, usernameTaken: false };
  const rows = await db
    .select({ email: users.email, username: users.username })
    .from(users)
    .where(and(or(...conditions), exceptUserId ? ne(users.id, exceptUserId) : undefined));
  return {
    emailTaken: rows.some((r) => values.email !== undefined && r.email.toLowerCase() === values.email.toLowerCase()),
    usernameTaken: rows.some((r) => values.username !== undefined && r.username.toLowerCase() === values.username.toLowerCase()),
  };
}

export async function insertUser(db: Db, values: NewUser): Promise<UserRow> {
  const [row] = await db.insert(users).values(values).returning();
  return row!;
}

export async function updateUser(db: Db, id: string, values: Partial<NewUser>): Promise<UserRow | undefined> {
  const [row] = await db.update(users).set(values).where(eq(users.id, id)).returning();
  // Every change of a user row goes through here: requests of this process stop using the cached copy at once.
  forgetSignedInUser(id);
  return row;
}

export async function listUsers(db: Db, limit: number, offset: number): Promise<{ rows: UserRow[]; total: number }> {
  const [rows, [total]] = await Promise.all([
    db.select().from(users).orderBy(asc(users.dateJoined), asc(users.id)).limit(limit).offset(offset),
    db.select({ value: count() }).from(users),
  ]);
  return { rows, total: total!.value };
}

export interface UserFilter {
  /** Part of the email or username, case-insensitive. */
  search?: string;
  isOrganizer?: boolean;
  isStaff?: boolean;
  isActive?: boolean;
}

/** LIKE's wildcards in a search term match themselves. */
const escapeLike = (term: string) => term.replace(/[\\%_]/g, (c) => `\\${c}`);

export async function searchUsers(db: Db, filter: UserFilter, limit: number, offset: number): Promise<{ rows: UserRow[]; total: number }> {
  const conditions: (SQL | undefined)[] = [
    filter.isOrganizer !== undefined ? eq(users.isOrganizer, filter.isOrganizer) : undefined,
    filter.isStaff !== undefined ? eq(users.isStaff, filter.isStaff) : undefined,
    filter.isActive !== undefined ? eq(users.isActive, filter.isActive) : undefined,
  ];
  if (filter.search) {
    const pattern = `%${escapeLike(filter.search.toLowerCase())}%`;
    conditions.push(or(sql`lower(${users.email}) LIKE ${pattern}`, sql`lower(${users.username}) LIKE ${pattern}`));
  }
  const where = and(...conditions);
  const [rows, [total]] = await Promise.all([
    db
      .select()
      .from(users)
      .where(where)
      .orderBy(asc(sql`lower(${users.email})`), asc(users.id))
      .limit(limit)
      .offset(offset),
    db.select({ value: count() }).from(users).where(where),
  ]);
  return { rows, total: total!.value };
}

/**
 * Locks every active staff user's row, in id order so two callers cannot deadlock: a change that could leave no
 * active staff user waits for any other such change, then sees its result.
 */
export async function lockActiveStaff(db: Db): Promise<string[]> {
  const rows = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.isStaff, true), eq(users.isActive, true)))
    .orderBy(asc(users.id))
    .for('update');
  return rows.map((r) => r.id);
}

export async function lockUserById(db: Db, id: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id)).for('update');
  return row;
}
