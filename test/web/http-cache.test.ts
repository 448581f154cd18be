import type { Request } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { logInThroughForm, newPage, useServerAndBrowser } from '../helpers/browser.js';
import { createEvent, createOrganizer } from '../helpers/factories.js';

const suite = useServerAndBrowser();

describe("the browser's HTTP cache and the web app", { timeout: 60_000 }, () => {
  it('revalidates public pages with their ETag, yet shows an edit at once, anonymous or signed in', async () => {
    const organizer = await createOrganizer(suite.server.app);
    const event = await createEvent(suite.server.app, organizer, { title: 'Lantern walk' });
    const { page, problems } = await newPage(suite.browser, suite.server.baseUrl);
    const apiPath = `/events/${event.id}/`;
    const asked: Request[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === apiPath) asked.push(request);
    });
    const edit = (title: string) =>
      suite.server.app.inject({ method: 'PATCH', url: `${apiPath}edit/`, headers: organizer.auth, payload: { title } });

    await page.goto(`/app/events/${event.id}`);
    await page.getByRole('heading', { name: 'Lantern walk' }).waitFor();
    expect((await edit('Lantern walk by the river')).statusCode).toBe(200);
    // The browser kept the page (no-cache: kept, asked again before each use) and asks with its ETag; the
    // changed page comes back in full.
    await page.goto('/app/');
    await page.goto(`/app/events/${event.id}`);
    await page.getByRole('heading', { name: 'Lantern walk by the river' }).waitFor();
    expect((await asked.at(-1)!.allHeaders())['if-none-match']).toMatch(/^"/);

    // Signed in, the organizer's own edit shows at once: signed-in answers are never stored nor answered 304.
    await logInThroughForm(page, organizer.username);
    expect((await edit('Lantern walk, new route')).statusCode).toBe(200);
    const signedIn = page.waitForResponse((response) => new URL(response.url()).pathname === apiPath);
    await page.goto(`/app/events/${event.id}`);
    expect((await signedIn).headers()['cache-control']).toBe('no-store');
    await page.getByRole('heading', { name: 'Lantern walk, new route' }).waitFor();
    expect(problems).toEqual([]);
  });
});
