import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { browserSuite, submitSignIn, submitSignUp } from '../support/browser-suite.ts';
import { TestSmtpServer, type ReceivedMail } from '../support/smtp-server.ts';
import { browserSkip, screenshot } from './browser.ts';

// API.md 8 in a real browser: a fresh install with GATEHOUSE_SMTP_URL, each flow driven through
// the web UI, each link read from the message the test's SMTP server received.

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'recovered in the browser 2026';

describe('mail flows in the web UI', { skip: browserSkip }, () => {
  let smtp: TestSmtpServer;
  // Hooks run in the order they are declared: the SMTP server starts before Gatehouse, which
  // needs its URL, and stops after it.
  before(async () => {
    smtp = await TestSmtpServer.start();
  });
  const suite = browserSuite('mail', {
    // The bar: only GATEHOUSE_SMTP_URL set; links then lead to where it listens.
    env: () => ({ GATEHOUSE_SMTP_URL: smtp.url }),
    address: 'fixed-port',
  });
  const newPage = () => suite.newPage();
  after(async () => {
    await smtp?.stop();
    assert.deepEqual(suite.foreign, [], 'no request left the origin');
  });

  /** The newest message to `to` with `subject`, waiting for the sender to deliver it. */
  async function mailTo(to: string, subject: string, since: number): Promise<ReceivedMail> {
    for (let count = since + 1; ; count += 1) {
      const received = await smtp.waitForCount(count);
      const mail = received
        .slice(since)
        .find((m) => m.envelope.to.includes(to) && m.header('subject') === subject);
      if (mail) return mail;
    }
  }

  function linkIn(mail: ReceivedMail): string {
    const link = /(http:\/\/\S+#\/[a-z-]+\?token=[A-Za-z0-9_-]+)/.exec(mail.text ?? '')?.[1];
    assert.ok(link, 'a link in the text part');
    assert.ok(link.startsWith(`${suite.url}/#/`));
    assert.ok(mail.html?.includes(`href="${link}"`));
    return link;
  }

  async function signUp(page: Page, email: string): Promise<void> {
    await page.goto(`${suite.url}/#/signup`);
    await submitSignUp(page, email, PASSWORD);
    await page.getByTestId('account-email').waitFor();
  }

  it('verifies a new address from the registration link; the banner goes away', async () => {
    const email = `verify-${process.pid}@example.com`;
    const since = smtp.received.length;
    const page = await newPage();
    await signUp(page, email);
    await page.getByTestId('unverified-banner').waitFor();
    await screenshot(page, 'account-unverified');
    // Resend: a newer link voids the registration's.
    await page.getByRole('button', { name: 'Resend confirmation link' }).click();
    await page.getByText(`We sent a new confirmation link to ${email}.`).waitFor();
    const first = await mailTo(email, 'Confirm your email address', since);
    const second = await mailTo(
      email,
      'Confirm your email address',
      smtp.received.indexOf(first) + 1,
    );
    await page.goto(linkIn(first));
    await page.getByText('This link is invalid or has expired.').first().waitFor();
    await page.goto(linkIn(second));
    await page.getByText('Your email address is confirmed.').waitFor();
    assert.doesNotMatch(page.url(), /token=/, 'the token leaves the address bar');
    await screenshot(page, 'verify-email');
    await page.goto(`${suite.url}/#/account`);
    await page.getByTestId('account-verified').waitFor();
    assert.equal(await page.getByTestId('account-verified').textContent(), 'Yes');
    assert.equal(await page.getByTestId('unverified-banner').count(), 0);
  });

  it('recovers a forgotten password: sign-in → forgot → link from the mail → reset → sign in', async () => {
    const email = `forgot-${process.pid}@example.com`;
    const first = await newPage();
    await signUp(first, email);
    const page = await newPage();
    await page.goto(`${suite.url}/#/signin`);
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.getByRole('heading', { name: 'Forgot your password?' }).waitFor();
    await screenshot(page, 'forgot-password');
    const since = smtp.received.length;
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByText(/If the address is registered, a reset link has been sent/).waitFor();
    const link = linkIn(await mailTo(email, 'Reset your password', since));
    await page.goto(link);
    await page.getByRole('heading', { name: 'Set a new password' }).waitFor();
    assert.doesNotMatch(page.url(), /token=/);
    await page.getByLabel('New password', { exact: true }).fill('password');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page
      .getByText(/too common/)
      .first()
      .waitFor();
    await screenshot(page, 'reset-password-policy');
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await submitSignIn(page, email, NEW_PASSWORD);
    await page.getByTestId('account-email').waitFor();
    // The reset ended the first tab's session.
    await first.reload();
    await first.getByRole('heading', { name: 'Sign in' }).waitFor();
    // The link works once.
    const again = await newPage();
    await again.goto(link);
    await again.getByLabel('New password', { exact: true }).fill('another fine passphrase');
    await again.getByRole('button', { name: 'Set new password' }).click();
    await again.getByText('This link is invalid or has expired. Ask for a new one.').waitFor();
  });

  it('changes the address from the account page through a link sent to the new one', async () => {
    const email = `mover-${process.pid}@example.com`;
    const next = `moved-${process.pid}@example.com`;
    const page = await newPage();
    await signUp(page, email);
    const since = smtp.received.length;
    await page.getByLabel('New email').fill(next);
    await page.getByLabel('Your password').fill('not my password');
    await page.getByRole('button', { name: 'Change email' }).click();
    await page.getByText('Incorrect password').first().waitFor();
    await page.getByLabel('Your password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Change email' }).click();
    await page.getByText(`Check ${next} for a link to confirm the change.`).waitFor();
    await screenshot(page, 'change-email');
    const notice = await mailTo(email, 'A change of your email address was requested', since);
    assert.ok(notice.text?.includes(next));
    await page.goto(linkIn(await mailTo(next, 'Confirm your new email address', since)));
    await page.getByText('Your email address is confirmed.').waitFor();
    await page.goto(`${suite.url}/#/account`);
    await page.getByTestId('account-email').waitFor();
    assert.equal(await page.getByTestId('account-email').textContent(), next);
  });
});
