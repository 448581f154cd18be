import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { users } from '../../src/db/schema.js';
import { expectAccessible, logInThroughForm, newPage, useServerAndBrowser } from '../helpers/browser.js';
import {
  authHeader,
  createEvent,
  createOrganizer,
  createStaff,
  createUser,
  insertFeedback,
  insertRegistration,
} from '../helpers/factories.js';

const suite = useServerAndBrowser();

const DAY = 86_400_000;

describe('a staff member in the admin pages', () => {
  it('deactivates a user, grants organizer, creates and deletes a category, deletes a feedback, and finds it all in the audit log', async () => {
    const { app } = suite.server;
    const staff = await createStaff(app);
    const spammer = await createUser(app, { email: 'spammer@example.com', username: 'spammer' });
    const promoter = await createUser(app, { email: 'future.organizer@example.com', username: 'future_org' });
    const organizer = await createOrganizer(app);
    const show = await createEvent(app, organizer, { title: 'Harbour jazz night', dateTime: new Date(Date.now() - DAY) });
    const [kind, rude] = await Promise.all([createUser(app), createUser(app, { email: 'rude@example.com' })]);
    for (const who of [kind, rude])
      await insertRegistration(app.db, { userId: who.id, eventId: show.id, quantity: 1, status: 'registered' });
    await insertFeedback(app.db, { userId: kind.id, eventId: show.id, rating: 5 });
    await insertFeedback(app.db, { userId: rude.id, eventId: show.id, rating: 1 });

    const { page, context, problems } = await newPage(suite.browser, suite.server.baseUrl);
    await logInThroughForm(page, staff.email);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await expectAccessible(page, 'admin users');

    // Users: find the spammer, deactivate them; their very next API call is refused.
    const spammerAuth = authHeader(app, spammer.id);
    expect((await app.inject({ url: '/auth/me/', headers: spammerAuth })).statusCode).toBe(200);
    await page.getByRole('searchbox', { name: 'Email or username' }).fill('SPAMMER');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('1 user', { exact: true }).waitFor();
    expect(new URL(page.url()).searchParams.get('search')).toBe('SPAMMER');
    await page.getByRole('link', { name: 'spammer@example.com' }).click();
    await page.getByRole('heading', { name: 'spammer@example.com' }).waitFor();
    await expectAccessible(page, 'admin user page');
    await page.getByRole('button', { name: 'Deactivate' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Deactivate' }).click();
    await page.getByText('spammer@example.com is deactivated').waitFor();
    await page.getByRole('button', { name: 'Reactivate' }).waitFor();
    expect((await app.inject({ url: '/auth/me/', headers: spammerAuth })).statusCode).toBe(401);

    // Grant organizer.
    await page.getByRole('link', { name: 'All users' }).click();
    await page.getByRole('searchbox', { name: 'Email or username' }).fill('future_org');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'future.organizer@example.com' }).click();
    await page.getByRole('button', { name: 'Grant organizer' }).click();
    await page.getByText('future.organizer@example.com is now an organizer.').waitFor();
    await page.getByRole('button', { name: 'Remove organizer' }).waitFor();
    const [promoted] = await app.db.select().from(users).where(eq(users.id, promoter.id));
    expect(promoted!.isOrganizer).toBe(true);
    // Their own staff flag is not theirs to drop: the API's answer is shown as it is.
    await page.goto(`/app/admin/users/${staff.id}`);
    await page.getByRole('button', { name: 'Remove staff' }).click();
    await page.getByText('You cannot remove your own staff flag.').waitFor();

    // Categories: create, then delete one.
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Categories' }).click();
    await page.getByRole('heading', { name: 'Categories', level: 1 }).waitFor();
    await page.getByLabel('Name').fill('Street food');
    await page.getByRole('button', { name: 'Create category' }).click();
    await page.getByText('Category “Street food” created.').waitFor();
    await page.getByText('street-food', { exact: true }).waitFor();
    // A clash is the API's answer, in words.
    await page.getByLabel('Name').fill('street FOOD');
    await page.getByRole('button', { name: 'Create category' }).click();
    await page.getByText('name: category with this name already exists.').waitFor();
    await expectAccessible(page, 'admin categories');
    await page.getByRole('button', { name: 'Delete Street food' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete category' }).click();
    await page.getByText('Category “Street food” deleted.').waitFor();
    await expect.poll(() => page.getByText('street-food', { exact: true }).count()).toBe(0);

    // Feedback moderation: the 1-star one goes, and the event's average moves from 3 to 5.
    expect((await app.inject({ url: `/events/${show.id}/` })).json().rating_average).toBe(3);
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Feedback' }).click();
    await page.getByLabel('Rating').selectOption('1');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('1 feedback', { exact: true }).waitFor();
    await expectAccessible(page, 'admin feedback');
    await page.getByRole('button', { name: 'Delete feedback by rude@example.com on Harbour jazz night' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete feedback' }).click();
    await page.getByText('“Harbour jazz night” now has an average of 5 (1 rating).').waitFor();
    expect((await app.inject({ url: `/events/${show.id}/` })).json()).toMatchObject({ rating_average: 5, rating_count: 1 });

    // Events: past and cancelled ones are there for staff.
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Events' }).click();
    await page.getByLabel('Include past events').check();
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'Harbour jazz night' }).waitFor();
    await expectAccessible(page, 'admin events');

    // System: counts, and the integrity checker on demand.
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'System' }).click();
    await page
      .getByText('Embedded (PGlite)')
      .or(page.getByText('PostgreSQL', { exact: true }))
      .waitFor();
    await page.getByRole('button', { name: 'Run the integrity check' }).click();
    await page.getByText(/No problem found/).waitFor();
    await expectAccessible(page, 'admin system');

    // The audit log has each action, newest first.
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Audit log' }).click();
    await page.getByText('5 entries', { exact: true }).waitFor();
    const entries = page.locator('.audit-list > li');
    const texts = await entries.allTextContents();
    expect(texts[0]).toContain('Feedback deleted');
    expect(texts[0]).toContain('rating: 1 → —');
    expect(texts[1]).toContain('Category deleted');
    expect(texts[2]).toContain('Category created');
    expect(texts[3]).toContain('User changed');
    expect(texts[3]).toContain('is organizer: false → true');
    expect(texts[4]).toContain('is active: true → false');
    expect(texts[4]).toContain('spammer@example.com');
    expect(texts.every((t) => t.includes(staff.email))).toBe(true);
    await expectAccessible(page, 'admin audit log');
    await page.getByLabel('Action').selectOption('user.update');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('2 entries', { exact: true }).waitFor();

    // A failing API is a message with a way to try again, never a blank page.
    await page.route('**/admin/system/', (route) => route.abort('connectionrefused'));
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'System' }).click();
    await page
      .getByRole('alert')
      .getByText(/could not be reached/)
      .waitFor();
    await page.unroute('**/admin/system/');
    // The browser logs the refused request itself; that one is expected.
    const refused = problems.filter((p) => /ERR_CONNECTION_REFUSED/.test(p));
    expect(refused.length).toBeGreaterThan(0);
    problems.splice(0, problems.length, ...problems.filter((p) => !refused.includes(p)));
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.getByRole('button', { name: 'Run the integrity check' }).waitFor();

    // On a phone nothing runs off the side.
    await page.setViewportSize({ width: 360, height: 740 });
    for (const path of ['/app/admin/audit', '/app/admin/users', `/app/admin/users/${spammer.id}`, '/app/admin/feedback']) {
      await page.goto(path);
      await page.getByRole('navigation', { name: 'Admin' }).waitFor();
      await page.locator('h1').waitFor();
      // On failure, name the elements that are wider than their box.
      const wide = await page.evaluate(() =>
        [...document.querySelectorAll('main *')]
          .filter((el) => el.scrollWidth > el.clientWidth + 1)
          .map((el) => `${el.tagName}: ${el.textContent?.slice(0, 30)}`),
      );
      expect(await page.evaluate(() => document.documentElement.scrollWidth), `${path} ${wide.join(' | ')}`).toBeLessThanOrEqual(360);
    }
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('anyone else', () => {
  it('a plain user and an organizer see "not allowed" on every admin page, and the API refuses them', async () => {
    const { app } = suite.server;
    for (const who of [await createUser(app), await createOrganizer(app)]) {
      const { page, context } = await newPage(suite.browser, suite.server.baseUrl);
      await logInThroughForm(page, who.email);
      expect(await page.getByRole('link', { name: 'Admin' }).count()).toBe(0);
      for (const path of ['users', `users/${who.id}`, 'categories', 'events', 'feedback', 'system', 'audit']) {
        await page.goto(`/app/admin/${path}`);
        await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
      }
      await expectAccessible(page, 'not allowed');
      for (const url of ['/admin/users/', '/admin/events/', '/admin/feedbacks/', '/admin/system/', '/admin/audit-log/']) {
        expect((await app.inject({ url, headers: authHeader(app, who.id) })).statusCode, url).toBe(403);
      }
      await context.close();
    }
  });
});
