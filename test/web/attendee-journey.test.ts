import { and, eq } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registrations, tickets } from '../../src/db/schema.js';
import { expectAccessible, launchBrowser, newPage, readQrCode, startWebServer, type WebServer } from '../helpers/browser.js';
import { createEvent } from '../helpers/events-factories.js';
import { createOrganizer } from '../helpers/factories.js';

let server: WebServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startWebServer(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('an attendee on a phone', () => {
  it('signs up, finds an event by search, registers 2 seats with a double click, sees 2 scannable QR codes and cancels', async () => {
    const organizer = await createOrganizer(server.app);
    const event = await createEvent(server.app, organizer, { title: 'Harbour jazz night', location: 'Porto, Portugal', capacity: 20 });
    await createEvent(server.app, organizer, { title: 'Pottery workshop', location: 'Lyon, France' });
    const { page, context, problems } = await newPage(browser, server.baseUrl, { width: 360, height: 740 });

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
    await expect.poll(() => page.getByText(/numeric|common/i).first().isVisible()).toBe(true);
    await expectAccessible(page, 'sign up with errors');
    await page.getByLabel('Password', { exact: true }).fill('Harbour-Lights-77');
    await page.getByLabel('Repeat the password').fill('Harbour-Lights-77');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();

    await page.getByRole('searchbox', { name: 'Search' }).fill('jazz');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('1 event', { exact: true }).waitFor();
    expect(new URL(page.url()).searchParams.get('search')).toBe('jazz');
    await expect.poll(() => page.getByRole('link', { name: 'Pottery workshop' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Harbour jazz night' }).click();

    await page.getByRole('heading', { name: 'Harbour jazz night' }).waitFor();
    await expect.poll(() => page.getByTestId('seats-left').textContent()).toContain('20 of 20 seats left');
    // The time is in the viewer's zone, named.
    expect(await page.locator('.facts').textContent()).toContain('Europe/Paris');
    await expectAccessible(page, 'the event page');
    await page.getByLabel('Number of tickets').selectOption('2');
    await page.getByRole('button', { name: 'Register' }).dblclick();
    await page.getByText('You are registered with 2 tickets.').waitFor();
    await expect.poll(() => page.getByTestId('seats-left').textContent()).toContain('18 of 20 seats left');

    // The double click made one registration.
    const rows = await server.app.db.select().from(registrations).where(eq(registrations.eventId, event.id));
    expect(rows).toHaveLength(1);
    const codes = (await server.app.db.select().from(tickets).where(eq(tickets.registrationId, rows[0]!.id))).map((t) => t.code).sort();
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
    expect(codes).toContain(await readQrCode(page, big));
    await expectAccessible(page, 'one ticket full screen');
    await page.goBack();

    await page.getByRole('button', { name: 'Cancel registration for Harbour jazz night' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this registration?' });
    await dialog.waitFor();
    await expectAccessible(page, 'the cancel confirmation');
    await dialog.getByRole('button', { name: 'Cancel registration' }).click();
    await page.getByText('Cancelled your registration for Harbour jazz night.').waitFor();
    const [after] = await server.app.db
      .select()
      .from(registrations)
      .where(and(eq(registrations.eventId, event.id), eq(registrations.id, rows[0]!.id)));
    expect(after!.status).toBe('cancelled');
    await page.getByText('No upcoming registrations.').waitFor();

    expect(problems).toEqual([]);
    await context.close();
  });
});
