import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { registrations, tickets } from '../../src/db/schema.js';
import { expectAccessible, logInThroughForm, newPage, readQrCode, useServerAndBrowser } from '../helpers/browser.js';
import { DEFAULT_PASSWORD, createCategory, createEvent, createOrganizer, createUser } from '../helpers/factories.js';

const suite = useServerAndBrowser();

// A browser journey is many steps; on a loaded 2-core machine one step can take seconds.
describe('an attendee on a phone', { timeout: 120_000 }, () => {
  it('signs up, finds an event by search, registers 2 seats with a double click, sees 2 scannable QR codes and cancels', async () => {
    const organizer = await createOrganizer(suite.server.app);
    const event = await createEvent(suite.server.app, organizer, {
      title: 'Harbour jazz night',
      location: 'Porto, Portugal',
      capacity: 20,
    });
    await createEvent(suite.server.app, organizer, { title: 'Pottery workshop', location: 'Lyon, France' });
    const { page, context, problems } = await newPage(suite.browser, suite.server.baseUrl, { width: 360, height: 740 });

    // `/` sends a browser to the app.
    await page.goto('/');
    expect(new URL(page.url()).pathname).toBe('/app/');
    await page.getByRole('heading', { name: 'Upcoming events' }).waitFor();
    await expectAccessible(page, 'the event list');

    await page.getByRole('link', { name: 'Sign up' }).click();
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Username').fill('ada');
    await page.getByLabel('Password', { exact: true }).fill('12345678');
    await page.getByLabel('Repeat the password').fill('12345678');
    await page.getByRole('button', { name: 'Sign up' }).click();
    // The API's field error is shown next to the field it is about.
    await expect
      .poll(() =>
        page
          .getByText(/numeric|common/i)
          .first()
          .isVisible(),
      )
      .toBe(true);
    await expectAccessible(page, 'sign up with errors');
    await page.getByLabel('Password', { exact: true }).fill('Harbour-Lights-77');
    await page.getByLabel('Repeat the password').fill('Harbour-Lights-77');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();

    // On a phone the filters other than the search box fold away until asked for.
    expect(await page.getByLabel('Location').isVisible()).toBe(false);
    await page.getByText('More filters').click();
    await page.getByLabel('Location').waitFor();
    await page.getByRole('searchbox', { name: 'Search' }).fill('jazz');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('1 event', { exact: true }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    expect(new URL(page.url()).searchParams.get('search')).toBe('jazz');
    await expect.poll(() => page.getByRole('link', { name: 'Pottery workshop' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Harbour jazz night' }).click();

    await page.getByRole('heading', { name: 'Harbour jazz night' }).waitFor();
    await expect.poll(() => page.getByTestId('seats-left').textContent()).toContain('20 of 20 seats left');
    // The time is in the viewer's zone, named.
    expect(await page.locator('.facts').textContent()).toContain('Europe/Paris');
    const icsPath = await page.getByRole('link', { name: 'Add to calendar (.ics)' }).getAttribute('href');
    const ics = await fetch(new URL(icsPath!, suite.server.baseUrl));
    expect(ics.headers.get('content-type')).toMatch(/^text\/calendar/);
    expect(await ics.text()).toContain('SUMMARY:Harbour jazz night');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await expectAccessible(page, 'the event page');
    await page.getByLabel('Number of tickets').selectOption('2');
    await page.getByRole('button', { name: 'Register' }).dblclick();
    await page.getByText('You are registered with 2 tickets.').waitFor();
    await expect.poll(() => page.getByTestId('seats-left').textContent()).toContain('18 of 20 seats left');

    // The double click made one registration.
    const rows = await suite.server.app.db.select().from(registrations).where(eq(registrations.eventId, event.id));
    expect(rows).toHaveLength(1);
    const codes = (await suite.server.app.db.select().from(tickets).where(eq(tickets.registrationId, rows[0]!.id)))
      .map((t) => t.code)
      .sort();
    expect(codes).toHaveLength(2);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My tickets' }).click();
    await page.getByRole('heading', { name: 'My tickets' }).waitFor();
    const qrImages = page.getByRole('img', { name: /^QR code of ticket / });
    await expect.poll(() => qrImages.count()).toBe(2);
    const decoded = [];
    for (const image of await qrImages.all()) decoded.push(await readQrCode(page, image));
    expect(decoded.sort()).toEqual(codes);
    for (const code of codes) await page.getByText(code, { exact: true }).waitFor();
    // Nothing wider than the phone's screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await expectAccessible(page, 'My tickets');

    await page.getByRole('link', { name: /^Show full screen\W+ticket 1 of Harbour jazz night$/ }).click();
    const big = page.getByRole('img', { name: /^QR code of ticket / });
    // The list's two codes stay on screen until the full-screen view has replaced them.
    await expect.poll(() => big.count()).toBe(1);
    expect(codes).toContain(await readQrCode(page, big));
    await expectAccessible(page, 'one ticket full screen');
    await page.goBack();

    await page.getByRole('button', { name: 'Cancel registration for Harbour jazz night' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this registration?' });
    await dialog.waitFor();
    await expectAccessible(page, 'the cancel confirmation');
    await dialog.getByRole('button', { name: 'Cancel registration' }).click();
    await page.getByText('Cancelled your registration for Harbour jazz night.').waitFor();
    const [after] = await suite.server.app.db
      .select()
      .from(registrations)
      .where(and(eq(registrations.eventId, event.id), eq(registrations.id, rows[0]!.id)));
    expect(after!.status).toBe('cancelled');
    await page.getByText('No upcoming registrations.').waitFor();

    expect(problems).toEqual([]);
    await context.close();
  });

  it('follows deep links and Back, keeps filters in the URL and the session over a reload, and edits the profile', async () => {
    const organizer = await createOrganizer(suite.server.app);
    const category = await createCategory(suite.server.app, { name: 'Boat trips', slug: 'boat-trips' });
    const event = await createEvent(suite.server.app, organizer, {
      title: 'Canal boat tour',
      location: 'Utrecht, Netherlands',
      categoryId: category.id,
      capacity: 50,
      sellsOffSoonThreshold: 50,
    });
    const user = await createUser(suite.server.app);
    const other = await createUser(suite.server.app);
    const { page, context, problems } = await newPage(suite.browser, suite.server.baseUrl);

    // A signed-in page asks for a login first, then comes back to it.
    await page.goto('/app/tickets');
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    expect(new URL(page.url()).searchParams.get('next')).toBe('/tickets');
    await expectAccessible(page, 'log in');
    await page.getByLabel('Email or username').fill(user.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'No active account found with the given credentials' }).waitFor();
    await page.getByLabel('Password').fill(DEFAULT_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'My tickets' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/app/tickets');

    // An event page opened by its address, then reloaded: same page, still signed in, with a rotated refresh
    // token (the one used for the reload no longer works).
    await page.goto(`/app/events/${event.id}`);
    await page.getByRole('heading', { name: 'Canal boat tour' }).waitFor();
    await page.getByRole('definition').filter({ hasText: 'Boat trips' }).waitFor();
    const storedRefresh = () => page.evaluate(() => sessionStorage.getItem('tickets.refresh'));
    const before = await storedRefresh();
    await page.reload();
    await page.getByRole('heading', { name: 'Canal boat tour' }).waitFor();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    const after = await storedRefresh();
    expect(after).toBeTruthy();
    expect(after).not.toBe(before);
    const replay = await suite.server.app.inject({ method: 'POST', url: '/auth/token/refresh/', payload: { refresh: before } });
    expect(replay.statusCode).toBe(401);
    // That replay revoked the token family, as the API does: the next renewal fails and the app signs out.
    await page.reload();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Log in' }).waitFor();
    await logInThroughForm(page, user.username);

    // Keyboard alone: skip link, then register with Enter.
    await page.goto(`/app/events/${event.id}`);
    await page.getByRole('button', { name: 'Register' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    await page.getByLabel('Number of tickets').focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByText('You are registered with 1 ticket.').waitFor();

    // A failing API shows a message and a way to try again, never a blank page.
    await page.route(
      (url) => url.pathname === '/events/',
      (route) => route.abort('connectionrefused'),
    );
    await page.goto('/app/?location=utrecht');
    await page.getByRole('alert').filter({ hasText: 'The server could not be reached' }).waitFor();
    await page.unrouteAll();
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.getByRole('link', { name: 'Canal boat tour' }).waitFor();

    // Filters live in the URL: a shared link shows the same list, and Back returns to it with the form filled.
    await page.goto('/app/?location=utrecht&has_seats=true');
    await page.getByText('1 event', { exact: true }).waitFor();
    expect(await page.getByLabel('Location').inputValue()).toBe('utrecht');
    expect(await page.getByLabel('Only events with seats left').isChecked()).toBe(true);
    await page.getByRole('link', { name: 'Canal boat tour' }).click();
    await page.getByRole('heading', { name: 'Canal boat tour' }).waitFor();
    await page.goBack();
    await page.getByRole('link', { name: 'Canal boat tour' }).waitFor();
    expect(await page.getByLabel('Location').inputValue()).toBe('utrecht');
    await page.getByLabel('Category').selectOption({ label: 'Boat trips' });
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('category')).toBe('boat-trips');
    const card = page.getByRole('listitem').filter({ hasText: 'Canal boat tour' });
    await card.getByText('Selling out soon').waitFor();
    await card.getByText('49 of 50 seats left').waitFor();
    await page.getByLabel('Search').fill('no such words anywhere');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No events match these filters.').waitFor();
    await expectAccessible(page, 'an empty event list');
    await page.goBack();
    await page.getByRole('link', { name: 'Canal boat tour' }).waitFor();
    await page.goForward();
    await page.getByText('No events match these filters.').waitFor();
    await page.getByRole('region', { name: 'Results' }).getByRole('button', { name: 'Clear filters' }).click();
    await page.getByRole('link', { name: 'Canal boat tour' }).waitFor();
    expect(new URL(page.url()).search).toBe('');

    await page.goto('/app/no/such/page');
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await expectAccessible(page, 'not found');

    // Profile: the API's field errors by the fields, then changes that work.
    await page.getByRole('link', { name: 'Profile' }).click();
    await page.getByRole('heading', { name: 'Profile', level: 1 }).waitFor();
    await expectAccessible(page, 'profile');
    const username = page.getByRole('textbox', { name: 'Username' });
    await username.fill(other.username);
    await page.getByRole('button', { name: 'Save username' }).click();
    await page.getByText('A user with that username already exists.').waitFor();
    expect(await username.getAttribute('aria-invalid')).toBe('true');
    await username.fill('canal_fan');
    await page.getByRole('button', { name: 'Save username' }).click();
    await page.getByText('Username saved.').waitFor();

    await page.getByLabel('Current password').fill('wrong-password');
    await page.getByLabel('New password', { exact: true }).fill('Tulip-Bridge-93');
    await page.getByLabel('Repeat the new password').fill('Tulip-Bridge-93');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Your old password was entered incorrectly. Please enter it again.').waitFor();
    expect(await page.getByLabel('Current password').getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Current password').fill(DEFAULT_PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Password changed. Other sessions were signed out.').waitFor();

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Log in' }).waitFor();
    await logInThroughForm(page, 'canal_fan', 'Tulip-Bridge-93');

    // The only console error is the refused connection this test made on purpose.
    expect(problems).toEqual(['Failed to load resource: net::ERR_CONNECTION_REFUSED']);
    await context.close();
  });
});
