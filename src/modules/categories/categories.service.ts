import type { Db } from '../../db/client.js';
import { ValidationError, forbidden, isUniqueViolation, notFound, type FieldErrors } from '../../lib/errors.js';
import { isStaff } from '../../lib/access.js';
import type { AuthUser } from '../../plugins/auth.js';
import { recordStaffAction } from '../audit/audit.service.js';
import * as repo from './categories.repository.js';
import type { CategoryRow } from './categories.repository.js';
import type { CategoryChanges } from './categories.schemas.js';

export type { CategoryRow };

const NAME_TAKEN = 'category with this name already exists.';
const SLUG_TAKEN = 'category with this slug already exists.';

/** Latin letters that NFKD does not decompose into a base letter and an accent. */
const LETTERS: Record<string, string> = { ß: 'ss', æ: 'ae', ø: 'o', œ: 'oe', đ: 'd', ł: 'l', þ: 'th' };

/** "Café & Bar" -> "cafe-bar": accents stripped (NFKD), anything not a letter or digit becomes one hyphen. */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[ßæøœđłþ]/g, (letter) => LETTERS[letter]!)
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 100)
    .replace(/-+$/, '');
}

function assertStaff(actor: AuthUser): void {
  if (!isStaff(actor)) throw forbidden();
}

/** A lost uniqueness race answers the same 400 as the pre-check, never a 500. */
function uniquenessError(err: unknown): ValidationError | undefined {
  if (isUniqueViolation(err, 'categories_name_lower_key')) return ValidationError.field('name', NAME_TAKEN);
  if (isUniqueViolation(err, 'categories_slug_key')) return ValidationError.field('slug', SLUG_TAKEN);
  return undefined;
}

async function assertUnique(db: Db, values: { name?: string; slug?: string }, exceptId?: string): Promise<void> {
  const clashes = await repo.findCategoryClashes(db, values, exceptId);
  const errors: FieldErrors = {};
  if (clashes.nameTaken) errors.name = [NAME_TAKEN];
  if (clashes.slugTaken) errors.slug = [SLUG_TAKEN];
  if (Object.keys(errors).length) throw new ValidationError(errors);
}

export async function getCategory(db: Db, id: string): Promise<CategoryRow> {
  const row = await repo.findCategoryById(db, id);
  if (!row) throw notFound();
  return row;
}

export const listCategories = repo.listCategories;
export const findCategoryById = repo.findCategoryById;
export const findCategoryBySlug = repo.findCategoryBySlug;

export async function createCategory(db: Db, actor: AuthUser, input: { name: string; slug?: string }, now: Date): Promise<CategoryRow> {
  assertStaff(actor);
  const name = input.name.trim();
  if (!name) throw ValidationError.field('name', 'This field may not be blank.');
  const slug = input.slug ?? slugify(name);
  if (!slug) throw ValidationError.field('slug', 'Could not make a slug from this name; give one.');
  await assertUnique(db, { name, slug });
  try {
    return await db.transaction(async (tx) => {
      const row = await repo.insertCategory(tx, { name, slug, createdAt: now });
      await recordStaffAction(
        tx,
        actor,
        { action: 'category.create', targetType: 'category', targetId: row.id, before: null, after: auditView(row) },
        now,
      );
      return row;
    });
  } catch (err) {
    throw uniquenessError(err) ?? err;
  }
}

const auditView = (row: CategoryRow) => ({ name: row.name, slug: row.slug });

export async function updateCategory(db: Db, actor: AuthUser, id: string, changes: CategoryChanges, now: Date): Promise<CategoryRow> {
  assertStaff(actor);
  const name = changes.name?.trim();
  if (name === '') throw ValidationError.field('name', 'This field may not be blank.');
  const current = await getCategory(db, id);
  // An empty PATCH changes nothing (an UPDATE with no columns is not valid SQL).
  if (name === undefined && changes.slug === undefined) return current;
  await assertUnique(db, { name, slug: changes.slug }, id);
  try {
    return await db.transaction(async (tx) => {
      const row = await repo.updateCategory(tx, id, { name, slug: changes.slug });
      if (!row) throw notFound();
      await recordStaffAction(
        tx,
        actor,
        { action: 'category.update', targetType: 'category', targetId: id, before: auditView(current), after: auditView(row) },
        now,
      );
      return row;
    });
  } catch (err) {
    throw uniquenessError(err) ?? err;
  }
}

/** Events of a deleted category stay, with no category (the foreign key is ON DELETE SET NULL). */
export async function deleteCategory(db: Db, actor: AuthUser, id: string, now: Date): Promise<void> {
  assertStaff(actor);
  await db.transaction(async (tx) => {
    const row = await repo.deleteCategory(tx, id);
    if (!row) throw notFound();
    await recordStaffAction(
      tx,
      actor,
      { action: 'category.delete', targetType: 'category', targetId: id, before: auditView(row), after: null },
      now,
    );
  });
}
