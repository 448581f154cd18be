import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { events } from '../../src/db/schema.js';
import { expectAccessible, logInThroughForm, newPage, useServerAndBrowser } from '../helpers/browser.js';
import { authHeader, createEvent, createOrganizer, createUser, registerFor } from '../helpers/factories.js';

const suite = useServerAndBrowser();

const HOUR = 3_600_000;

describe('pages that stay current without reloading', () => {
  it('a waitlisted attendee sees the promotion and the bell move live; a visitor sees seats left change', async () => {
    const organizer = await createOrganizer(suite.server.app);
    const event = await createEvent(suite.server.app, organizer, { title: 'Rooftop cinema', capacity: 2 });
    const holder = await createUser(suite.server.app);
    const holding = await registerFor(suite.server.app, holder, event.id, 2);
    expect(holding.json().status).toBe('registered');
    const waiter = await createUser(suite.server.app);

    const visitor = await newPage(suite.browser, suite.server.baseUrl);
    await visitor.page.goto(`/app/events/${event.id}`);
    await expect.poll(() => visitor.page.getByTestId('seats-left').textContent()).toContain('No seats left');
    await visitor.page.getByText('Sold out').waitFor();

    const { page, context, problems } = await newPage(suite.browser, suite.server.baseUrl);
    await logInThroughForm(page, waiter.email);
    await page.goto(`/app/events/${event.id}`);
    await page.getByRole('button', { name: 'Join the waiting list' }).click();
    await page.getByText('You are on the waiting list at position 1 for 1 seat.').waitFor();
    // The "waitlisted" notification arrives over the stream.
    await page.getByRole('link', { name: 'Notifications, 1 unread' }).waitFor();

    // The holder gives up both seats: the waiter is promoted, and the open page says so.
    const cancel = await suite.server.app.inject({
      method: 'POST',
      url: `/registrations/${holding.json().id}/cancel/`,
      headers: authHeader(suite.server.app, holder.id),
    });
    expect(cancel.statusCode).toBe(200);
    await page.getByText('You are registered with 1 ticket.').waitFor();
    await page.getByRole('link', { name: 'Notifications, 2 unread' }).waitFor();
    await expect.poll(() => page.getByTestId('seats-left').textContent()).toContain('1 of 2 seats left');
    // The visitor has no stream: the page re-reads the event on its own.
    await expect.poll(() => visitor.page.getByTestId('seats-left').textContent(), { timeout: 20_000 }).toContain('1 of 2 seats left');
    expect(visitor.problems).toEqual([]);
    await visitor.context.close();

    await page.getByRole('link', { name: 'Notifications, 2 unread' }).click();
    await page.getByRole('heading', { name: 'Notifications' }).waitFor();
    await expectAccessible(page, 'notifications');
    await page.getByRole('button', { name: /^Mark as read: .*waiting list/i }).click();
    await page.getByRole('link', { name: 'Notifications, 1 unread' }).waitFor();
    await page.getByRole('button', { name: 'Mark all as read' }).click();
    await page.getByRole('link', { name: 'Notifications', exact: true }).waitFor();
    await expect.poll(() => page.getByRole('button', { name: /^Mark as read/ }).count()).toBe(0);

    expect(problems).toEqual([]);
    await context.close();
  });

  it('after an attended event, the attendee rates it from My tickets, edits and deletes the feedback', async () => {
    const organizer = await createOrganizer(suite.server.app);
    const event = await createEvent(suite.server.app, organizer, {
      title: 'Lakeside concert',
      dateTime: new Date(Date.now() + HOUR),
    });
    const attendee = await createUser(suite.server.app);
    expect((await registerFor(suite.server.app, attendee, event.id, 1)).statusCode).toBe(201);
    // The concert took place: move it into the past.
    await suite.server.app.db
      .update(events)
      .set({ dateTime: new Date(Date.now() - 3 * HOUR) })
      .where(eq(events.id, event.id));

    const { page, context, problems } = await newPage(suite.browser, suite.server.baseUrl);
    await logInThroughForm(page, attendee.username);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My tickets' }).click();
    const form = page.getByRole('form', { name: 'Feedback on Lakeside concert' });
    await form.waitFor();
    await expectAccessible(page, 'My tickets with a feedback form');
    await form.getByRole('button', { name: 'Send feedback' }).click();
    await form.getByText('Choose a rating from 1 to 5.').waitFor();
    await form.getByRole('radio', { name: '4' }).check();
    await form.getByLabel('Comment (optional)').fill('Lovely evening, a bit cold.');
    await form.getByRole('button', { name: 'Send feedback' }).click();
    const mine = page.getByRole('group', { name: 'Your feedback on Lakeside concert' });
    await mine.getByText('Thank you for your feedback.').waitFor();
    await mine.getByText('4 out of 5').waitFor();

    await mine.getByRole('button', { name: 'Edit feedback' }).click();
    await form.getByRole('radio', { name: '5' }).check();
    await form.getByRole('button', { name: 'Save feedback' }).click();
    await mine.getByText('Feedback updated.').waitFor();
    await mine.getByText('5 out of 5').waitFor();

    // The event page shows the rating and the feedback list once the event has taken place.
    await page.getByRole('link', { name: 'Lakeside concert' }).click();
    await page.getByText('5 out of 5 (1 review)').waitFor();
    await page.getByRole('region', { name: 'Feedback' }).getByText('Lovely evening, a bit cold.').waitFor();
    await page.getByText('You are registered with 1 ticket.').waitFor();
    await expectAccessible(page, 'a past event with feedback');
    await page.goBack();

    await mine.getByRole('button', { name: 'Delete feedback' }).click();
    await form.getByText('Feedback deleted.').waitFor();
    await form.getByRole('button', { name: 'Send feedback' }).waitFor();

    expect(problems).toEqual([]);
    await context.close();
  });
});
