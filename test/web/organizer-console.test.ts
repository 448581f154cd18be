import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectAccessible, logInThroughForm, newPage, useServerAndBrowser } from '../helpers/browser.js';
import { authHeader, createCategory, createEvent, createOrganizer, createUser, registerFor } from '../helpers/factories.js';

const suite = useServerAndBrowser();

describe('an organizer in the console', { timeout: 120_000 }, () => {
  it('creates an event through the form, watches it fill up live, finds attendees, downloads the door list, edits, unpublishes and cancels it', async () => {
    const { app } = suite.server;
    const organizer = await createOrganizer(app);
    const category = await createCategory(app, { name: 'Live music', slug: 'live-music' });

    const { page, context, problems } = await newPage(suite.browser, suite.server.baseUrl);
    await logInThroughForm(page, organizer.email);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My events' }).click();
    await page.getByRole('heading', { name: 'My events' }).waitFor();
    await page.getByText('No events here yet.').waitFor();
    await expectAccessible(page, 'my events (empty)');

    // Create: every field, the times in the organizer's zone (the browser is in Europe/Paris).
    await page.getByRole('link', { name: 'Create an event' }).click();
    await page.getByRole('heading', { name: 'New event' }).waitFor();
    await expectAccessible(page, 'new event form');
    await page.getByLabel('Title').fill('Harbour lights concert');
    await page.getByLabel('Description').fill('Brass band on the pier.');
    await page.getByLabel('Location').fill('Pier 4, Marseille');
    await page.getByLabel('Starts (Europe/Paris time)').fill('2031-03-14T19:30');
    await page.getByLabel('Ends (Europe/Paris time, optional)').fill('2031-03-14T22:00');
    await page.getByLabel('Capacity').fill('0');
    await page.getByLabel('“Selling out soon” threshold').fill('1');
    await page.getByLabel('Category').selectOption({ label: 'Live music' });
    await page.getByLabel('Recurring event').check();
    await page.getByRole('button', { name: 'Create event' }).click();
    // The API's refusal, beside the field it is about.
    const capacity = page.getByLabel('Capacity');
    await page.getByText('Ensure this value is greater than or equal to 1.').waitFor();
    expect(await capacity.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await capacity.getAttribute('aria-describedby'))!;
    expect(await page.locator(`[id="${describedBy}"]`).textContent()).toBe('Ensure this value is greater than or equal to 1.');
    await expectAccessible(page, 'new event form with an error');
    await capacity.fill('2');
    await page.getByRole('button', { name: 'Create event' }).click();
    await page.getByText('Event “Harbour lights concert” created.').waitFor();
    await page.getByRole('heading', { name: 'Harbour lights concert' }).waitFor();

    const mine = (await app.inject({ url: '/events/mine/', headers: authHeader(app, organizer.id) })).json().results;
    expect(mine).toHaveLength(1);
    const event = mine[0];
    expect(event).toMatchObject({
      title: 'Harbour lights concert',
      description: 'Brass band on the pier.',
      location: 'Pier 4, Marseille',
      date_time: '2031-03-14T18:30:00.000Z',
      end_time: '2031-03-14T21:00:00.000Z',
      capacity: 2,
      event_ticket_sells_off_soon: 1,
      category: category.id,
      is_recurring: true,
      status: 'published',
    });

    // Someone registers through the API while the page is open: the numbers move without a reload.
    const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Harbour lights concert' }) });
    await card.getByText('0 of 2').waitFor();
    await card.getByText('No registrations yet.').waitFor();
    await expectAccessible(page, 'my events');
    const [ann, bob, cat] = [
      await createUser(app, { username: 'ann_river', email: 'ann@example.org' }),
      await createUser(app, { username: 'bob_stone', email: 'bob@example.org' }),
      await createUser(app, { username: 'cat_moss', email: 'cat@example.org' }),
    ];
    const annReg = (await registerFor(app, ann, event.id, 1)).json();
    await card.getByText('1 of 2').waitFor();
    await card.getByRole('img', { name: /Registrations over time: 1 seat/ }).waitFor();
    await registerFor(app, bob, event.id, 1);
    await registerFor(app, cat, event.id, 1); // full: waiting list
    await card.getByText('2 of 2').waitFor();
    await card.getByText('1 order').waitFor();

    // Attendees: search by ticket code, check one in by hand, download the door list.
    await card.getByRole('link', { name: 'Attendees of Harbour lights concert' }).click();
    await page.getByRole('heading', { name: 'Attendees of “Harbour lights concert”' }).waitFor();
    await page.getByText('3 registrations', { exact: true }).waitFor();
    await expectAccessible(page, 'attendees');
    const annCode: string = annReg.ticket_instances[0].code;
    await page.getByLabel('Name, email or ticket code').fill(annCode.toLowerCase());
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('1 registration', { exact: true }).waitFor();
    const row = page.getByRole('row').filter({ hasText: 'ann_river' });
    await row.getByText('ann@example.org').waitFor();
    expect(new URL(page.url()).searchParams.get('search')).toBe(annCode.toLowerCase());
    await row.getByRole('button', { name: `Check in ${annCode}` }).click();
    await page.getByText(`Ticket ${annCode} of ann_river is checked in.`).waitFor();
    await row.getByText(/^checked in /).waitFor();
    expect((await app.inject({ url: `/tickets/${annCode}/`, headers: authHeader(app, organizer.id) })).json()).toMatchObject({
      is_used: true,
      used_by: { id: organizer.id },
    });

    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByText('3 registrations', { exact: true }).waitFor();
    await page.getByLabel('Status').selectOption('waitlisted');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('1 registration', { exact: true }).waitFor();
    await page.getByRole('row').filter({ hasText: 'cat_moss' }).getByText('waitlisted (#1)').waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByText('3 registrations', { exact: true }).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download the door list (CSV)' }).click(),
    ]);
    const csv = fs
      .readFileSync(await download.path(), 'utf8')
      .trim()
      .split('\r\n');
    expect(csv[0]).toBe('registration_id,username,status,quantity,created_at,cancelled_at,waitlist_position,ticket_codes,checked_in');
    expect(csv.slice(1).map((line) => line.split(',').slice(1, 4).join(','))).toEqual([
      'ann_river,registered,1',
      'bob_stone,registered,1',
      'cat_moss,waitlisted,1',
    ]);
    expect(csv[1]).toContain(annCode);
    expect(csv[1]!.endsWith(',1')).toBe(true);

    // Preview: the public page, as attendees see it.
    await page.getByRole('link', { name: 'Preview the event page' }).click();
    await page.getByRole('heading', { name: 'Harbour lights concert', level: 1 }).waitFor();
    await page.goBack();

    // Edit: a capacity below the seats taken is refused with the API's words beside the field.
    await page.getByRole('link', { name: 'Edit the event' }).click();
    await page.getByRole('heading', { name: 'Edit “Harbour lights concert”' }).waitFor();
    expect(await page.getByLabel('Starts (Europe/Paris time)').inputValue()).toBe('2031-03-14T19:30');
    await expectAccessible(page, 'edit event');
    await page.getByLabel('Capacity').fill('1');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Ensure this value is at least the 2 seats already registered.').waitFor();
    await page.getByLabel('Capacity').fill('3');
    await page.getByLabel('Title').fill('Harbour lights concert (encore)');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Changes saved.').waitFor();
    // The waiting list took the added seat.
    expect((await app.inject({ url: `/events/${event.id}/` })).json()).toMatchObject({
      capacity: 3,
      registered_count: 3,
      waitlist_count: 0,
    });

    // Unpublish, publish again, then cancel with the number of attendees who will be told.
    await page.getByRole('button', { name: 'Unpublish' }).click();
    await page.getByText(/is unpublished: hidden from attendees/).waitFor();
    await page.getByText('Unpublished', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page.getByText(/is published: listed and open to registration/).waitFor();
    await page.getByRole('button', { name: 'Cancel event…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog
      .getByText('3 registrations (registered or on the waiting list) will be cancelled and told by notification and mail.')
      .waitFor();
    await expectAccessible(page, 'cancel dialog');
    await dialog.getByRole('button', { name: 'Cancel the event' }).click();
    await page.getByText('This event is cancelled: it can no longer be edited or published.').waitFor();
    expect((await app.inject({ url: `/events/${event.id}/`, headers: authHeader(app, organizer.id) })).json().status).toBe('cancelled');

    // My events: it is among the inactive ones now.
    await page.getByRole('navigation', { name: 'Organizer' }).getByRole('link', { name: 'My events' }).click();
    await page.getByLabel('Show').selectOption('inactive');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByRole('heading', { name: 'Harbour lights concert (encore)' }).waitFor();
    await page.getByText('Cancelled', { exact: true }).waitFor();
    await page.getByLabel('Show').selectOption('upcoming');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByText('0 events', { exact: true }).waitFor();

    // On a phone nothing runs off the side.
    await page.setViewportSize({ width: 360, height: 740 });
    for (const path of [
      '/app/organizer',
      `/app/organizer/events/${event.id}/attendees`,
      `/app/organizer/events/${event.id}/edit`,
      '/app/organizer/events/new',
    ]) {
      await page.goto(path);
      await page.locator('h1').waitFor();
      await page.getByRole('navigation', { name: 'Organizer' }).waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth), path).toBeLessThanOrEqual(360);
    }
    expect(problems).toEqual([]);
    await context.close();
  });

  it('an attendee sees "not allowed" on the organizer pages and has no My events link; the API refuses them', async () => {
    const { app } = suite.server;
    const attendee = await createUser(app);
    const event = await createEvent(app, await createOrganizer(app));
    const { page, context } = await newPage(suite.browser, suite.server.baseUrl);
    await logInThroughForm(page, attendee.email);
    expect(await page.getByRole('link', { name: 'My events' }).count()).toBe(0);
    for (const path of ['/app/organizer', '/app/organizer/events/new', `/app/organizer/events/${event.id}/attendees`]) {
      await page.goto(path);
      await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
    }
    await expectAccessible(page, 'organizer pages, not allowed');
    const headers = authHeader(app, attendee.id);
    expect((await app.inject({ url: `/events/${event.id}/stats/`, headers })).statusCode).toBe(403);
    expect((await app.inject({ url: `/events/${event.id}/registrations/`, headers })).statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: '/events/create/', headers, payload: {} })).statusCode).toBe(400);
    await context.close();
  });
});
