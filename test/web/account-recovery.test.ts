import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailChannel } from '../../src/modules/mail/mail.channel.js';
import { createMailTransport, type MailTransport } from '../../src/modules/mail/mail.transport.js';
import { deliverDue, type OutboxChannel } from '../../src/modules/outbox/outbox.service.js';
import { expectAccessible, logInThroughForm, newPage, useServerAndBrowser } from '../helpers/browser.js';
import { createUser } from '../helpers/factories.js';
import { TestSmtpServer } from '../helpers/smtp.js';

const suite = useServerAndBrowser();
const smtp = new TestSmtpServer();
let transport: MailTransport;
let channel: OutboxChannel;
beforeAll(async () => {
  await smtp.start();
  transport = createMailTransport({ smtpUrl: smtp.url, dataDir: '' });
  channel = emailChannel({ config: suite.server.app.config, transport, signer: suite.server.app.linkSigner });
});
afterAll(async () => {
  transport.close();
  await smtp.stop();
});

/** Sends what the outbox holds, and returns the path (with its token) of the link in the last mail to `email`. */
async function linkInMail(email: string, subject: string): Promise<string> {
  await deliverDue(suite.server.app.db, [channel], new Date());
  const mail = smtp
    .to(email)
    .filter((m) => m.parsed.subject === subject)
    .at(-1)!;
  const url = /(https?:\/\/\S+\/app\/\S+\?token=\S+)/.exec(mail.parsed.text ?? '')![1]!;
  const link = new URL(url);
  return `${link.pathname}${link.search}`;
}

describe('account recovery in the web app', () => {
  it('forgot password: asks for a link, opens it from the mail, sets a new password and logs in with it', async () => {
    const user = await createUser(suite.server.app);
    const { page, context, problems } = await newPage(suite.browser, suite.server.baseUrl);
    await page.goto('/app/login');
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Email').fill(user.email);
    await page.getByRole('button', { name: 'Send me a link' }).click();
    await page.getByText('If an account has this address').waitFor();
    await expectAccessible(page, 'the forgot-password page');

    await page.goto(await linkInMail(user.email, 'Reset your password'));
    await page.getByLabel('New password', { exact: true }).fill('12345678');
    await page.getByLabel('New password again').fill('12345678');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByText('This password is entirely numeric.').waitFor();
    await expectAccessible(page, 'the reset page with errors');
    await page.getByLabel('New password', { exact: true }).fill('Lighthouse-Keeper-58');
    await page.getByLabel('New password again').fill('Lighthouse-Keeper-58');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByText('Your password is changed').waitFor();

    await logInThroughForm(page, user.email, 'Lighthouse-Keeper-58');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('verify email: the link from the sign-up mail confirms the address', async () => {
    const signUp = await suite.server.app.inject({
      method: 'POST',
      url: '/auth/register/',
      payload: { email: 'grace@example.com', username: 'grace', password: 'Compiler-Pioneer-52', password2: 'Compiler-Pioneer-52' },
    });
    expect(signUp.statusCode).toBe(201);
    const { page, context, problems } = await newPage(suite.browser, suite.server.baseUrl);
    await page.goto(await linkInMail('grace@example.com', 'Confirm your email address'));
    await page.getByText('grace@example.com is confirmed').waitFor();
    await expectAccessible(page, 'the verify-email page');
    await page.goto('/app/verify-email?token=forged');
    await page.getByText('This verification link is invalid or has expired.').waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });
});
