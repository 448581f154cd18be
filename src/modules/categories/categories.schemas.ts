import { Type, type Static } from 'typebox';
import { PaginationQuery } from '../../lib/pagination.js';
import { Uuid } from '../../lib/schemas.js';

export const SLUG_PATTERN = '^[a-z0-9]+(?:-[a-z0-9]+)*$';

const Name = Type.String({ minLength: 1, maxLength: 100 });
const Slug = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: SLUG_PATTERN,
  description: 'Lowercase letters, digits and single hyphens. Generated from the name when omitted.',
});

export const Category = Type.Object({ id: Uuid(), name: Type.String(), slug: Type.String() });
export type Category = Static<typeof Category>;

export const CategoryCreateBody = Type.Object({ name: Name, slug: Type.Optional(Slug) });
/** PUT needs the name; an omitted slug is kept, so links and ?category= filters keep working. */
export const CategoryReplaceBody = CategoryCreateBody;
export const CategoryUpdateBody = Type.Object({ name: Type.Optional(Name), slug: Type.Optional(Slug) });
export type CategoryChanges = Static<typeof CategoryUpdateBody>;

export const CategoryListQuery = Type.Object(PaginationQuery);
