import type { Db } from '../../db/client.js';
import { isStaff } from '../../lib/access.js';
import { ValidationError, forbidden, isUniqueViolation, notFound, type FieldErrors } from '../../lib/errors.js';
import { recordStaffAction } from '../audit/audit.service.js';
import { hashPassword, verifyPassword } from '../../lib/passwords.js';
import type { AuthUser } from '../../plugins/auth.js';
import { queueMails } from '../mail/mail.service.js';
import { passwordProblems } from './password-policy.js';
import * as repo from './users.repository.js';
import type { UserFilter, UserRow } from './users.repository.js';

export type { UserRow };

const EMAIL_TAKEN = 'user with this email already exists.';
const USERNAME_TAKEN = 'A user with that username already exists.';

/** Turns a lost uniqueness race into the same 400 the pre-check gives, never a 500. */
function uniquenessError(err: unknown): ValidationError | undefined {
  if (isUniqueViolation(err, 'users_email_lower_key')) return ValidationError.field('email', EMAIL_TAKEN);
  if (isUniqueViolation(err, 'users_username_lower_key')) return ValidationError.field('username', USERNAME_TAKEN);
  return undefined;
}

async function assertIdentityFree(db: Db, values: { email?: string; username?: string }, exceptUserId?: string) {
  const taken = await repo.findTakenIdentity(db, values, exceptUserId);
  const errors: FieldErrors = {};
  if (taken.emailTaken) errors.email = [EMAIL_TAKEN];
  if (taken.usernameTaken) errors.username = [USERNAME_TAKEN];
  if (Object.keys(errors).length) throw new ValidationError(errors);
}

export interface SignUp {
  email: string;
  username: string;
  password: string;
  password2: string;
  is_organizer?: boolean;
}

export async function registerUser(db: Db, input: SignUp, now: Date): Promise<UserRow> {
  const errors: FieldErrors = {};
  if (input.password !== input.password2) errors.password2 = ["Password fields didn't match."];
  const problems = passwordProblems(input.password, { username: input.username, email: input.email });
  if (problems.length) errors.password = problems;
  const taken = await repo.findTakenIdentity(db, input);
  if (taken.emailTaken) errors.email = [EMAIL_TAKEN];
  if (taken.usernameTaken) errors.username = [USERNAME_TAKEN];
  if (Object.keys(errors).length) throw new ValidationError(errors);

  const passwordHash = await hashPassword(input.password);
  try {
    return await db.transaction(async (tx) => {
      const user = await repo.insertUser(tx, {
        email: input.email,
        username: input.username,
        passwordHash,
        isOrganizer: input.is_organizer ?? false,
        // Staff can only be made by `npm run createsuperuser` or another staff member, never by signing up.
        isStaff: false,
        dateJoined: now,
      });
      await queueVerificationMail(tx, user, now);
      return user;
    });
  } catch (err) {
    throw uniquenessError(err) ?? err;
  }
}

export async function createSuperuser(db: Db, input: { email: string; username: string; password: string }, now: Date): Promise<UserRow> {
  await assertIdentityFree(db, input);
  const problems = passwordProblems(input.password, { username: input.username, email: input.email });
  if (problems.length) throw new ValidationError({ password: problems });
  return repo.insertUser(db, {
    email: input.email,
    username: input.username,
    passwordHash: await hashPassword(input.password),
    isOrganizer: true,
    isStaff: true,
    dateJoined: now,
  });
}

export async function getUser(db: Db, id: string): Promise<UserRow> {
  const user = await repo.findUserById(db, id);
  if (!user) throw notFound();
  return user;
}

export interface ProfileChanges {
  email?: string;
  username?: string;
  is_organizer?: boolean;
  /** Needed only to change the email address. */
  current_password?: string;
}

/**
 * The email address is the account's identity (login, and where a password reset would go): changing it needs the
 * current password, so a stolen access token alone cannot take the account over. Sending the current address
 * back (a client echoing the profile it read) is not a change.
 */
async function assertMayChangeEmail(db: Db, userId: string, changes: ProfileChanges): Promise<void> {
  if (changes.email === undefined) return;
  const current = await repo.findUserById(db, userId);
  if (!current) throw notFound();
  if (changes.email.toLowerCase() === current.email.toLowerCase()) return;
  if (changes.current_password === undefined) {
    throw ValidationError.field('current_password', 'Your current password is required to change your email address.');
  }
  if (!(await verifyPassword(current.passwordHash, changes.current_password))) {
    throw ValidationError.field('current_password', 'Your password was entered incorrectly. Please enter it again.');
  }
}

/** The link that proves an address, mailed at sign-up and whenever the address changes. */
export async function queueVerificationMail(db: Db, user: Pick<UserRow, 'id' | 'email'>, now: Date): Promise<void> {
  await queueMails(db, [{ kind: 'email_verification', userId: user.id, email: user.email }], now);
}

export async function updateProfile(db: Db, userId: string, changes: ProfileChanges, now: Date): Promise<UserRow> {
  await assertIdentityFree(db, changes, userId);
  await assertMayChangeEmail(db, userId, changes);
  const current = await repo.findUserById(db, userId);
  if (!current) throw notFound();
  const emailChanged = changes.email !== undefined && changes.email.toLowerCase() !== current.email.toLowerCase();
  const values = {
    email: changes.email,
    username: changes.username,
    isOrganizer: changes.is_organizer,
    // A new address is unproven until its own link is used.
    ...(emailChanged ? { emailVerifiedAt: null } : {}),
  };
  // An empty PATCH changes nothing (an UPDATE with no columns is not valid SQL).
  if (Object.values(values).every((v) => v === undefined)) return current;
  try {
    return await db.transaction(async (tx) => {
      const updated = await repo.updateUser(tx, userId, values);
      if (!updated) throw notFound();
      if (emailChanged) await queueVerificationMail(tx, updated, now);
      return updated;
    });
  } catch (err) {
    throw uniquenessError(err) ?? err;
  }
}

/** Checks the old password and stores the new one; the caller revokes the user's refresh tokens. */
export async function changePassword(
  db: Db,
  user: UserRow,
  input: { old_password: string; new_password: string; new_password2?: string },
): Promise<void> {
  const errors: FieldErrors = {};
  if (!(await verifyPassword(user.passwordHash, input.old_password))) {
    errors.old_password = ['Your old password was entered incorrectly. Please enter it again.'];
  }
  if (input.new_password2 !== undefined && input.new_password !== input.new_password2) {
    errors.new_password2 = ["Password fields didn't match."];
  }
  const problems = passwordProblems(input.new_password, { username: user.username, email: user.email });
  if (problems.length) errors.new_password = problems;
  if (Object.keys(errors).length) throw new ValidationError(errors);
  await repo.updateUser(db, user.id, { passwordHash: await hashPassword(input.new_password) });
}

/** Every account, for staff only. */
export async function listUsers(db: Db, actor: AuthUser, limit: number, offset: number): Promise<{ rows: UserRow[]; total: number }> {
  if (!isStaff(actor)) throw forbidden();
  return repo.listUsers(db, limit, offset);
}

export async function searchUsers(db: Db, actor: AuthUser, filter: UserFilter, limit: number, offset: number) {
  if (!isStaff(actor)) throw forbidden();
  return repo.searchUsers(db, filter, limit, offset);
}

export interface AccessChanges {
  is_active?: boolean;
  is_organizer?: boolean;
  is_staff?: boolean;
}

const accessView = (row: UserRow) => ({ is_active: row.isActive, is_organizer: row.isOrganizer, is_staff: row.isStaff });

/**
 * Staff change a user's state and roles. Nobody removes their own staff flag or deactivates themselves, and the
 * last active staff user never loses staff (by either change): the active staff rows are locked first, so two
 * staff users demoting each other at once cannot both succeed. A deactivated user's access tokens stop working
 * at once (every request reads the user), and their refresh token is refused too. Recorded in the audit log.
 */
export async function changeAccess(db: Db, actor: AuthUser, id: string, changes: AccessChanges, now: Date): Promise<UserRow> {
  if (!isStaff(actor)) throw forbidden();
  return db.transaction(async (tx) => {
    const activeStaff = await repo.lockActiveStaff(tx);
    // The actor's own rights are read again under the lock: a staff user demoted a moment ago acts no more.
    if (!activeStaff.includes(actor.id)) throw forbidden();
    const target = await repo.lockUserById(tx, id);
    if (!target) throw notFound();
    const errors: FieldErrors = {};
    if (target.id === actor.id) {
      if (changes.is_staff === false) errors.is_staff = ['You cannot remove your own staff flag.'];
      if (changes.is_active === false) errors.is_active = ['You cannot deactivate yourself.'];
    }
    const losesStaff = target.isStaff && target.isActive && (changes.is_staff === false || changes.is_active === false);
    if (losesStaff && activeStaff.length <= 1 && !errors.is_staff && !errors.is_active) {
      errors.non_field_errors = ['The last active staff user cannot lose staff.'];
    }
    if (Object.keys(errors).length) throw new ValidationError(errors);
    const values = { isActive: changes.is_active, isOrganizer: changes.is_organizer, isStaff: changes.is_staff };
    const before = accessView(target);
    const after = {
      is_active: changes.is_active ?? before.is_active,
      is_organizer: changes.is_organizer ?? before.is_organizer,
      is_staff: changes.is_staff ?? before.is_staff,
    };
    const changed = (Object.keys(before) as (keyof typeof before)[]).filter((k) => before[k] !== after[k]);
    // Nothing to change (an empty body, or the values it already has): no UPDATE, no audit entry.
    if (changed.length === 0) return target;
    const updated = (await repo.updateUser(tx, id, values))!;
    await recordStaffAction(
      tx,
      actor,
      {
        action: 'user.update',
        targetType: 'user',
        targetId: id,
        before: { email: target.email, ...Object.fromEntries(changed.map((k) => [k, before[k]])) },
        after: Object.fromEntries(changed.map((k) => [k, after[k]])),
      },
      now,
    );
    return updated;
  });
}
