import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Paginated, pageWindow, paginated } from '../../lib/pagination.js';
import { IdParams, errorResponses } from '../../lib/schemas.js';
import { currentUser } from '../../plugins/auth.js';
import { Category, CategoryCreateBody, CategoryListQuery, CategoryReplaceBody, CategoryUpdateBody } from './categories.schemas.js';
import * as categories from './categories.service.js';
import type { CategoryRow } from './categories.service.js';

export const toCategoryResponse = (row: CategoryRow) => ({ id: row.id, name: row.name, slug: row.slug });

const tags = ['categories'];
const bearer = [{ bearerAuth: [] }];

const categoriesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/categories/',
    {
      config: { publicCache: true },
      schema: {
        tags,
        summary: 'List categories, ordered by name',
        querystring: CategoryListQuery,
        response: { 200: Paginated(Category), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const window = pageWindow(request.query);
      const { rows, total } = await categories.listCategories(app.db, window.limit, window.offset);
      return paginated(request, window, total, rows.map(toCategoryResponse));
    },
  );

  app.get(
    '/categories/:id/',
    {
      config: { publicCache: true },
      schema: { tags, summary: 'One category', params: IdParams, response: { 200: Category, ...errorResponses(404) } },
    },
    async (request) => toCategoryResponse(await categories.getCategory(app.db, request.params.id)),
  );

  app.post(
    '/categories/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security: bearer,
        summary: 'Create a category (staff only)',
        body: CategoryCreateBody,
        response: { 201: Category, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const row = await categories.createCategory(app.db, currentUser(request), request.body, app.clock.now());
      return reply.code(201).send(toCategoryResponse(row));
    },
  );

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/categories/:id/',
      preHandler: app.auth.required,
      schema: {
        tags,
        security: bearer,
        summary: method === 'PUT' ? 'Replace a category (staff only)' : 'Update part of a category (staff only)',
        description: 'An omitted slug is kept as it is.',
        params: IdParams,
        body: method === 'PUT' ? CategoryReplaceBody : CategoryUpdateBody,
        response: { 200: Category, ...errorResponses(400, 401, 403, 404) },
      },
      handler: async (request) =>
        toCategoryResponse(await categories.updateCategory(app.db, currentUser(request), request.params.id, request.body, app.clock.now())),
    });
  }

  app.delete(
    '/categories/:id/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security: bearer,
        summary: 'Delete a category (staff only)',
        description: 'Its events stay, with `category: null`.',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await categories.deleteCategory(app.db, currentUser(request), request.params.id, app.clock.now());
      return reply.code(204).send(null);
    },
  );
};

export default categoriesRoutes;
