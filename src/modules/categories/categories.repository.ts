import { and, asc, count, eq, ne, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { categories } from '../../db/schema.js';

export type CategoryRow = typeof categories.$inferSelect;
export type NewCategory = typeof categories.$inferInsert;

export async function findCategoryById(db: Db, id: string): Promise<CategoryRow | undefined> {
  const [row] = await db.select().from(categories).where(eq(categories.id, id)).limit(1);
  return row;
}

export async function findCategoryBySlug(db: Db, slug: string): Promise<CategoryRow | undefined> {
  const [row] = await db.select().from(categories).where(eq(categories.slug, slug)).limit(1);
  return row;
}

/** Whether a category other than `exceptId` already has this name (compared case-insensitively) or slug. */
export async function findCategoryClashes(
  db: Db,
  values: { name?: string; slug?: string },
  exceptId?: string,
): Promise<{ nameTaken: boolean; slugTaken: boolean }> {
  const nameMatch = values.name === undefined ? sql`false` : sql`lower(${categories.name}) = lower(${values.name})`;
  const slugMatch = values.slug === undefined ? sql`false` : eq(categories.slug, values.slug);
  const rows = await db
    .select({ nameTaken: sql<boolean>`${nameMatch}`, slugTaken: sql<boolean>`${slugMatch}` })
    .from(categories)
    .where(and(or(nameMatch, slugMatch), exceptId ? ne(categories.id, exceptId) : undefined));
  return { nameTaken: rows.some((r) => r.nameTaken), slugTaken: rows.some((r) => r.slugTaken) };
}

export async function insertCategory(db: Db, values: NewCategory): Promise<CategoryRow> {
  const [row] = await db.insert(categories).values(values).returning();
  return row!;
}

export async function updateCategory(db: Db, id: string, values: Partial<NewCategory>): Promise<CategoryRow | undefined> {
  const [row] = await db.update(categories).set(values).where(eq(categories.id, id)).returning();
  return row;
}

export async function deleteCategory(db: Db, id: string): Promise<CategoryRow | undefined> {
  const [row] = await db.delete(categories).where(eq(categories.id, id)).returning();
  return row;
}

export async function listCategories(db: Db, limit: number, offset: number): Promise<{ rows: CategoryRow[]; total: number }> {
  const [rows, [total]] = await Promise.all([
    db
      .select()
      .from(categories)
      .orderBy(asc(sql`lower(${categories.name})`), asc(categories.id))
      .limit(limit)
      .offset(offset),
    db.select({ value: count() }).from(categories),
  ]);
  return { rows, total: total!.value };
}
