import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import type { Page } from 'playwright-core';
import { browserSuite, signIn } from '../support/browser-suite.ts';
import { browserSkip, screenshot } from './browser.ts';

// API.md 9 in a real browser on a fresh install: TOTP turned on from the account page, then
// the password alone no longer signs in; a code does, and a recovery code does once.

const PASSWORD = 'correct horse battery staple';

/** The code of `secret` for the time step `offset` steps from now, computed in the test. */
function totp(secret: string, offset = 0): string {
  return TOTP.generate({
    secret: Secret.fromBase32(secret),
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    timestamp: Date.now() + offset * 30_000,
  });
}

const signInWithPassword = (page: Page, url: string, email: string) =>
  signIn(page, url, email, PASSWORD);

describe('two-factor authentication in the web UI', { skip: browserSkip }, () => {
  const suite = browserSuite('mfa');

  it('enrols TOTP on the account page; then sign-in needs a code, and a recovery code works once', async () => {
    const email = `mfa-e2e-${process.pid}@example.com`;
    await suite.register(email, PASSWORD);

    const page = await suite.newPage();
    const context = page.context();
    try {
      await signInWithPassword(page, suite.url, email);
      await page.getByTestId('account-email').waitFor();
      await page.getByTestId('mfa-status').getByText('Off').waitFor();

      await page.getByLabel('Password for two-factor').fill(PASSWORD);
      await page.getByRole('button', { name: 'Set up two-factor authentication' }).click();
      await page.getByAltText('QR code for your authenticator app').waitFor();
      const secret = await page.getByLabel('Setup key').inputValue();
      assert.match(secret, /^[A-Z2-7]{32}$/);
      await screenshot(page, 'mfa-enrol');
      await page.getByLabel('Code from the app').fill(totp(secret));
      await page.getByRole('button', { name: 'Turn on' }).click();
      const list = page.getByTestId('recovery-codes');
      await list.waitFor();
      const codes = (await list.locator('li').allTextContents()).map((c) => c.trim());
      assert.equal(codes.length, 10);
      await screenshot(page, 'mfa-recovery-codes');
      await page.getByRole('button', { name: 'I saved my codes' }).click();
      await page.getByTestId('mfa-status').getByText('10 recovery codes left').waitFor();

      // The password alone no longer signs in: the code form comes, and no cookie is set yet.
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await signInWithPassword(page, suite.url, email);
      await page.getByTestId('mfa-form').waitFor();
      assert.deepEqual(
        (await context.cookies()).filter((c) => c.name === 'gatehouse_refresh'),
        [],
        'no refresh cookie before the second factor',
      );
      assert.equal(
        (await page.reload(),
        await page.getByRole('heading', { name: 'Sign in' }).waitFor(),
        page.url()).endsWith('#/signin'),
        true,
        'a reload before the code does not sign in',
      );
      await signInWithPassword(page, suite.url, email);
      await page.getByLabel('Authentication code').fill('000000');
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByText('That code is not valid').first().waitFor();
      // The enrolment spent the current step; the next one (+1 step of skew) is accepted.
      await page.getByLabel('Authentication code').fill(totp(secret, 1));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByTestId('account-email').waitFor();
      await page.reload();
      await page.getByTestId('account-email').waitFor();

      // A recovery code works once.
      for (const expected of ['works', 'refused']) {
        await page.getByRole('button', { name: 'Sign out', exact: true }).click();
        await page.getByRole('heading', { name: 'Sign in' }).waitFor();
        await signInWithPassword(page, suite.url, email);
        await page.getByLabel('Authentication code').fill(codes[0]!);
        await page.getByRole('button', { name: 'Verify' }).click();
        if (expected === 'works') {
          await page.getByTestId('account-email').waitFor();
          await page.getByTestId('mfa-status').getByText('9 recovery codes left').waitFor();
        } else {
          await page.getByText('That code is not valid').first().waitFor();
        }
      }
      assert.deepEqual(suite.foreign, []);
    } finally {
      await context.close();
    }
  });
});
