import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  expectAccessible,
  launchBrowserWithCamera,
  logInThroughForm,
  newPage,
  useServerAndBrowser,
  writeQrVideo,
  type TrackedPage,
} from '../helpers/browser.js';
import { authHeader, createEvent, createOrganizer, createStaff, createUser, registerFor, type TestUser } from '../helpers/factories.js';

const suite = useServerAndBrowser();

/** An attendee registered for `quantity` seats of `eventId`: their ticket codes. */
async function ticketsFor(eventId: string, quantity = 1): Promise<{ holder: TestUser; codes: string[]; registrationId: string }> {
  const holder = await createUser(suite.server.app);
  const res = await registerFor(suite.server.app, holder, eventId, quantity);
  expect(res.statusCode, res.body).toBe(201);
  return { holder, codes: res.json().ticket_instances.map((t: { code: string }) => t.code), registrationId: res.json().id };
}

async function ticket(code: string, user: TestUser) {
  return (await suite.server.app.inject({ url: `/tickets/${code}/`, headers: authHeader(suite.server.app, user.id) })).json();
}

/** Types a code into the door's field and presses Enter, as a hardware scanner does. */
async function scanByKeyboard(page: TrackedPage['page'], code: string) {
  await page.getByLabel('Ticket code').pressSequentially(code, { delay: 5 });
  await page.keyboard.press('Enter');
}

const result = (page: TrackedPage['page']) => page.getByRole('status').filter({ has: page.locator('.door-title') });

/** Offline, the browser itself logs each request it could not send; those are expected there. */
const withoutOfflineNoise = (problems: string[]) => problems.filter((p) => !/ERR_INTERNET_DISCONNECTED|Failed to fetch/.test(p));

describe('door check-in', { timeout: 120_000 }, () => {
  it('a hardware scanner (code + Enter) admits once, then says already checked in, unknown code, another event, cancelled', async () => {
    const { app } = suite.server;
    const organizer = await createOrganizer(app);
    const event = await createEvent(app, organizer, { title: 'Warehouse rave', capacity: 10 });
    const other = await createEvent(app, organizer, { title: 'Sunday brunch' });
    const pair = await ticketsFor(event.id, 2);
    const single = await ticketsFor(event.id, 1);
    const elsewhere = await ticketsFor(other.id, 1);
    const gone = await ticketsFor(event.id, 1);
    const cancel = await app.inject({
      method: 'POST',
      url: `/registrations/${gone.registrationId}/cancel/`,
      headers: authHeader(app, gone.holder.id),
    });
    expect(cancel.statusCode).toBe(200);

    const { page, context, problems } = await newPage(suite.browser, suite.server.baseUrl, { width: 390, height: 844 });
    await logInThroughForm(page, organizer.email);
    await page.goto(`/app/check-in/${event.id}`);
    await page.getByRole('heading', { name: 'Check-in: Warehouse rave' }).waitFor();
    await page.getByText('Checked in 0 of 3').waitFor();
    // The field is focused from the start, ready for the scanner.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('door-code');
    await expectAccessible(page, 'door check-in');

    await scanByKeyboard(page, pair.codes[1]!);
    await result(page).getByText('Admitted').waitFor();
    await result(page).getByText(`${pair.holder.username} · seat 2 of 2`).waitFor();
    await page.getByText('Checked in 1 of 3').waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('door-code');

    await scanByKeyboard(page, pair.codes[1]!.toLowerCase());
    await result(page).getByText('Already checked in').waitFor();
    await result(page)
      .getByText(new RegExp(`by ${organizer.username}\\.`))
      .waitFor();

    await scanByKeyboard(page, 'EVT-0000000000ZZ-1');
    await result(page).getByText('Unknown code').waitFor();

    await scanByKeyboard(page, elsewhere.codes[0]!);
    await result(page).getByText('Another event').waitFor();
    await result(page).getByText('This ticket is for “Sunday brunch”.').waitFor();

    await scanByKeyboard(page, gone.codes[0]!);
    await result(page).getByText('Cancelled', { exact: true }).waitFor();
    await expectAccessible(page, 'door check-in with answers');

    // Typing and the button work as well as Enter.
    await page.getByLabel('Ticket code').fill(single.codes[0]!);
    await page.getByRole('button', { name: 'Check in' }).click();
    await result(page).getByText(`${single.holder.username} · seat 1 of 1`).waitFor();
    await page.getByText('Checked in 2 of 3').waitFor();
    // Only the two admissions changed anything.
    expect((await ticket(elsewhere.codes[0]!, organizer)).is_used).toBe(false);
    expect((await ticket(pair.codes[0]!, organizer)).is_used).toBe(false);
    expect(await page.getByRole('listitem').filter({ hasText: 'EVT-' }).count()).toBe(6);
    // Nothing on the phone-sized page runs off the side.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('offline: three scans are queued on the device, survive a reload, and are sent in order when the network returns', async () => {
    const { app } = suite.server;
    const organizer = await createOrganizer(app);
    const staff = await createStaff(app);
    const event = await createEvent(app, organizer, { title: 'Field day' });
    const [a, b, c] = [await ticketsFor(event.id), await ticketsFor(event.id), await ticketsFor(event.id)];

    const { page, context, problems } = await newPage(suite.browser, suite.server.baseUrl, { width: 390, height: 844 });
    await logInThroughForm(page, organizer.email);
    await page.goto(`/app/check-in/${event.id}`);
    await page.getByText('Checked in 0 of 3').waitFor();
    // The page has its service worker and has cached itself.
    await page.getByText('Ready to work offline').waitFor();
    expect(await page.evaluate(async () => Boolean(await caches.match('/app/check-in/')))).toBe(true);

    await context.setOffline(true);
    await page.getByText(/^Offline: scans are kept on this device/).waitFor();
    for (const code of [a.codes[0]!, b.codes[0]!, c.codes[0]!]) {
      await scanByKeyboard(page, code);
      await result(page).getByText('Queued').waitFor();
    }
    await page.getByText('Offline: scans are kept on this device (3 scans queued)').waitFor();
    // Meanwhile another door (staff, online) admits b.
    const elsewhere = await app.inject({
      method: 'POST',
      url: '/tickets/check-in/',
      headers: authHeader(app, staff.id),
      payload: { code: b.codes[0] },
    });
    expect(elsewhere.statusCode).toBe(200);

    // A reload without network: the service worker serves the page, and the queue is still there.
    const reloaded = await page.reload();
    expect(reloaded?.fromServiceWorker()).toBe(true);
    await page.getByRole('heading', { name: 'Check-in: Field day' }).waitFor();
    await page.getByText('Offline: scans are kept on this device (3 scans queued)').waitFor();
    expect(await page.locator('.scan-queued').count()).toBe(3);
    for (const code of [a.codes[0]!, b.codes[0]!, c.codes[0]!]) expect((await ticket(code, organizer)).is_used).toBe(code === b.codes[0]);

    await context.setOffline(false);
    await expect.poll(() => page.locator('.scan-list li:not(.scan-queued)').count(), { timeout: 20_000 }).toBe(3);
    expect(await page.locator('.scan-queued').count()).toBe(0);
    const answers = await page.locator('.scan-list li').allTextContents();
    // Newest first on screen: c, b, a.
    expect(answers[0]).toContain(c.codes[0]);
    expect(answers[0]).toContain('Admitted');
    expect(answers[1]).toContain(b.codes[0]);
    expect(answers[1]).toContain(`Already checked in`);
    expect(answers[1]).toContain(`by ${staff.username}`);
    expect(answers[2]).toContain(a.codes[0]);
    expect(answers[2]).toContain('Admitted');
    await page.getByText('Checked in 3 of 3').waitFor();

    // The API saw each ticket used once, by whom the screen says.
    expect((await ticket(a.codes[0]!, organizer)).used_by.id).toBe(organizer.id);
    expect((await ticket(b.codes[0]!, organizer)).used_by.id).toBe(staff.id);
    expect((await ticket(c.codes[0]!, organizer)).used_by.id).toBe(organizer.id);
    const stats = await app.inject({ url: `/events/${event.id}/stats/`, headers: authHeader(app, organizer.id) });
    expect(stats.json().checked_in_count).toBe(3);
    expect(withoutOfflineNoise(problems)).toEqual([]);
    await context.close();
  });

  it('the camera reads a real ticket’s QR code: admitted, then already checked in', async () => {
    const { app } = suite.server;
    const organizer = await createOrganizer(app);
    const event = await createEvent(app, organizer, { title: 'Open air cinema' });
    const { holder, codes } = await ticketsFor(event.id);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'door-camera-'));
    const video = path.join(dir, 'ticket.y4m');
    writeQrVideo(codes[0]!, video);
    const browser = await launchBrowserWithCamera(video);
    try {
      const { page, problems } = await newPage(browser, suite.server.baseUrl, { width: 390, height: 844 });
      await logInThroughForm(page, organizer.email);
      await page.goto(`/app/check-in/${event.id}`);
      await page.getByText('Checked in 0 of 1').waitFor();
      await page.getByRole('button', { name: 'Use the camera' }).click();
      await result(page).getByText('Admitted').waitFor({ timeout: 20_000 });
      await result(page).getByText(`${holder.username} · seat 1 of 1`).waitFor();
      // Still in front of the camera after the pause: read again, and refused.
      await result(page).getByText('Already checked in').waitFor({ timeout: 20_000 });
      expect((await ticket(codes[0]!, organizer)).used_by.id).toBe(organizer.id);
      await page.getByRole('button', { name: 'Stop the camera' }).click();
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('only the event’s organizer and staff get in: another organizer and an attendee are told so, and the API refuses them', async () => {
    const { app } = suite.server;
    const organizer = await createOrganizer(app);
    const event = await createEvent(app, organizer, { title: 'Private party' });
    const { codes } = await ticketsFor(event.id);
    for (const who of [await createOrganizer(app), await createUser(app)]) {
      const { page, context } = await newPage(suite.browser, suite.server.baseUrl);
      await logInThroughForm(page, who.email);
      await page.goto(`/app/check-in/${event.id}`);
      await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
      await page.getByText('Only the organizer of this event and staff can check its tickets in.').waitFor();
      const scan = await app.inject({
        method: 'POST',
        url: '/tickets/check-in/',
        headers: authHeader(app, who.id),
        payload: { code: codes[0] },
      });
      expect([403, 404]).toContain(scan.statusCode);
      await context.close();
    }
    expect((await ticket(codes[0]!, organizer)).is_used).toBe(false);
    // Staff may.
    const staff = await createStaff(app);
    const { page, context } = await newPage(suite.browser, suite.server.baseUrl);
    await logInThroughForm(page, staff.email);
    await page.goto(`/app/check-in/${event.id}`);
    await scanByKeyboard(page, codes[0]!);
    await result(page).getByText('Admitted').waitFor();
    await context.close();
  });
});
