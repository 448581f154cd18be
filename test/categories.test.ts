import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slugify } from '../src/modules/categories/categories.service.js';
import { buildTestApp, type TestContext } from './helpers/app.js';
import { createCategory, createEvent, createOrganizer, createStaff, createUser, type TestUser } from './helpers/factories.js';

let ctx: TestContext;
let staff: TestUser;
let user: TestUser;
let organizer: TestUser;
beforeAll(async () => {
  ctx = await buildTestApp();
  [staff, user, organizer] = await Promise.all([createStaff(ctx.app), createUser(ctx.app), createOrganizer(ctx.app)]);
});
afterAll(async () => ctx.close());

const send = (method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object, headers: Record<string, string> = {}) =>
  ctx.app.inject({ method, url, payload, headers });

describe('GET /categories/ and /categories/<id>/', () => {
  // First in the file, so these four are the only categories.
  it('lists publicly, ordered by name case-insensitively, in pages', async () => {
    for (const name of ['beta', 'Alpha', 'gamma', 'Delta']) await createCategory(ctx.app, { name });
    const first = await ctx.app.inject({ url: '/categories/?page_size=3' });
    expect(first.statusCode).toBe(200);
    expect(first.json().count).toBe(4);
    expect(first.json().results.map((c: { name: string }) => c.name)).toEqual(['Alpha', 'beta', 'Delta']);
    expect(first.json().next).toContain('page=2');
    const second = await ctx.app.inject({ url: '/categories/?page_size=3&page=2' });
    expect(second.json().results.map((c: { name: string }) => c.name)).toEqual(['gamma']);
    expect(second.json().next).toBeNull();
    expect((await ctx.app.inject({ url: '/categories/?page_size=3&page=3' })).statusCode).toBe(404);
    expect((await ctx.app.inject({ url: '/categories/?page=0' })).json()).toHaveProperty('page');
  });

  it('shows one category publicly; unknown and malformed ids are 404', async () => {
    const category = await createCategory(ctx.app);
    const res = await ctx.app.inject({ url: `/categories/${category.id}/` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: category.id, name: category.name, slug: category.slug });
    expect((await ctx.app.inject({ url: '/categories/00000000-0000-4000-8000-000000000000/' })).statusCode).toBe(404);
    expect((await ctx.app.inject({ url: '/categories/not-a-uuid/' })).statusCode).toBe(404);
  });
});

describe('slugify', () => {
  it('lowercases, strips accents and joins words with single hyphens', () => {
    expect(slugify('Café & Bar Nights')).toBe('cafe-bar-nights');
    expect(slugify('  Ünïcode — Straße 2025!! ')).toBe('unicode-strasse-2025');
    expect(slugify('Smørrebrød Æble')).toBe('smorrebrod-aeble');
    expect(slugify('日本')).toBe('');
  });
});

describe('POST /categories/', () => {
  it('is for staff only: 401 anonymous, 403 plain user and organizer', async () => {
    expect((await send('POST', '/categories/', { name: 'Anon' })).statusCode).toBe(401);
    expect((await send('POST', '/categories/', { name: 'Plain' }, user.auth)).statusCode).toBe(403);
    expect((await send('POST', '/categories/', { name: 'Org' }, organizer.auth)).statusCode).toBe(403);
  });

  it('creates with a slug generated from the name, or the given one', async () => {
    const generated = await send('POST', '/categories/', { name: 'Tech Café Meetups' }, staff.auth);
    expect(generated.statusCode).toBe(201);
    expect(generated.json()).toEqual({ id: expect.any(String), name: 'Tech Café Meetups', slug: 'tech-cafe-meetups' });
    const given = await send('POST', '/categories/', { name: 'Workshops', slug: 'hands-on' }, staff.auth);
    expect(given.statusCode).toBe(201);
    expect(given.json().slug).toBe('hands-on');
  });

  it('refuses a malformed slug, a blank name, and a name that gives no slug', async () => {
    const bad = await send('POST', '/categories/', { name: 'Bad slug', slug: 'Not A Slug' }, staff.auth);
    expect(bad.statusCode).toBe(400);
    expect(Object.keys(bad.json())).toEqual(['slug']);
    const blank = await send('POST', '/categories/', { name: '   ' }, staff.auth);
    expect(blank.statusCode).toBe(400);
    expect(blank.json()).toEqual({ name: ['This field may not be blank.'] });
    const noSlug = await send('POST', '/categories/', { name: '日本' }, staff.auth);
    expect(noSlug.statusCode).toBe(400);
    expect(Object.keys(noSlug.json())).toEqual(['slug']);
    const fine = await send('POST', '/categories/', { name: '日本', slug: 'japan' }, staff.auth);
    expect(fine.statusCode).toBe(201);
  });

  it('refuses a duplicate name in any case, and a duplicate slug, on their fields', async () => {
    await createCategory(ctx.app, { name: 'Music', slug: 'music' });
    const name = await send('POST', '/categories/', { name: 'MUSIC', slug: 'other-music' }, staff.auth);
    expect(name.statusCode).toBe(400);
    expect(name.json()).toEqual({ name: ['category with this name already exists.'] });
    const slug = await send('POST', '/categories/', { name: 'Musique', slug: 'music' }, staff.auth);
    expect(slug.statusCode).toBe(400);
    expect(slug.json()).toEqual({ slug: ['category with this slug already exists.'] });
    const generatedSlug = await send('POST', '/categories/', { name: 'Músic' }, staff.auth);
    expect(generatedSlug.statusCode).toBe(400);
    expect(generatedSlug.json()).toEqual({ slug: ['category with this slug already exists.'] });
  });

  it('answers one 201 and 400s (never a 500) when the same name is created concurrently', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => send('POST', '/categories/', { name: 'Race Day' }, staff.auth)));
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes).toEqual([201, 400, 400, 400, 400, 400, 400, 400]);
    for (const res of results.filter((r) => r.statusCode === 400)) {
      expect(Object.keys(res.json()).some((field) => field === 'name' || field === 'slug')).toBe(true);
    }
  });
});

describe('PUT/PATCH /categories/<id>/', () => {
  it('is for staff only', async () => {
    const category = await createCategory(ctx.app);
    const url = `/categories/${category.id}/`;
    expect((await send('PATCH', url, { name: 'x1' })).statusCode).toBe(401);
    expect((await send('PATCH', url, { name: 'x2' }, user.auth)).statusCode).toBe(403);
    expect((await send('PUT', url, { name: 'x3' }, organizer.auth)).statusCode).toBe(403);
    const res = await send('PUT', url, { name: 'Renamed by staff' }, staff.auth);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: category.id, name: 'Renamed by staff', slug: category.slug });
  });

  it('keeps the slug unless given, allows a case change of its own name, refuses another name', async () => {
    const category = await createCategory(ctx.app, { name: 'Film', slug: 'film' });
    await createCategory(ctx.app, { name: 'Theatre', slug: 'theatre' });
    const url = `/categories/${category.id}/`;
    expect((await send('PATCH', url, { name: 'FILM' }, staff.auth)).json()).toMatchObject({ name: 'FILM', slug: 'film' });
    expect((await send('PATCH', url, { slug: 'cinema' }, staff.auth)).json()).toMatchObject({ name: 'FILM', slug: 'cinema' });
    const taken = await send('PATCH', url, { name: 'theatre' }, staff.auth);
    expect(taken.statusCode).toBe(400);
    expect(taken.json()).toEqual({ name: ['category with this name already exists.'] });
    const slugTaken = await send('PATCH', url, { slug: 'theatre' }, staff.auth);
    expect(slugTaken.json()).toEqual({ slug: ['category with this slug already exists.'] });
    expect((await send('PUT', url, { slug: 'x' }, staff.auth)).json()).toEqual({ name: ['This field is required.'] });
    expect((await send('PATCH', '/categories/00000000-0000-4000-8000-000000000000/', { name: 'y' }, staff.auth)).statusCode).toBe(404);
  });
});

describe('DELETE /categories/<id>/', () => {
  it('is for staff only and leaves the events with category null', async () => {
    const category = await createCategory(ctx.app);
    const event = await createEvent(ctx.app, organizer, { categoryId: category.id });
    const url = `/categories/${category.id}/`;
    expect((await send('DELETE', url)).statusCode).toBe(401);
    expect((await send('DELETE', url, undefined, user.auth)).statusCode).toBe(403);
    expect((await send('DELETE', url, undefined, organizer.auth)).statusCode).toBe(403);
    expect((await send('DELETE', url, undefined, staff.auth)).statusCode).toBe(204);
    expect((await ctx.app.inject({ url })).statusCode).toBe(404);
    expect((await send('DELETE', url, undefined, staff.auth)).statusCode).toBe(404);
    const after = await ctx.app.inject({ url: `/events/${event.id}/` });
    expect(after.statusCode).toBe(200);
    expect(after.json().category).toBeNull();
  });
});
