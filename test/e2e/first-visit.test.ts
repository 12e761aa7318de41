import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { ADMIN, browserSuite, settled, submitSignIn } from '../support/browser-suite.ts';
import { browserSkip, screenshot } from './browser.ts';

// Issue 17, "Done when": someone who has never seen Gatehouse creates an account, signs in,
// manages their sessions and, as an admin, finds what a given user did last, on a phone,
// without docs and without a dead end. The server runs with a raised minimum password length,
// which the UI must show (it reads it from the page, not from a constant).

const MIN_LENGTH = 12;
const PASSWORD = 'a long enough passphrase';
const PHONE = { width: 390, height: 844 };
// Named devices: the server names sessions from the User-Agent (bowser).
const PHONE_UA =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';
const LAPTOP_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';

/**
 * No dead end: the page has visible links to go on or back (the header's brand and its
 * navigation at least), and nothing is wider than the phone's screen.
 */
async function assertWayOn(page: Page, where: string): Promise<string[]> {
  const links = (await page.evaluate(
    `[...document.querySelectorAll('header a[href], main a[href]')]
      .filter((a) => a.getClientRects().length > 0 && getComputedStyle(a).visibility !== 'hidden')
      .map((a) => a.textContent.trim())`,
  )) as string[];
  assert.ok(links.includes('Gatehouse'), `${where}: the brand link leads home (${links})`);
  assert.ok(links.length >= 2, `${where}: a visible way on besides the brand (${links})`);
  const overflow = Number(
    await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'),
  );
  assert.ok(overflow <= 0, `${where}: no sideways scrolling at phone width (${overflow}px)`);
  return links;
}

describe(
  'a first visit, on a phone: sign up to finding what a user did',
  { skip: browserSkip },
  () => {
    const suite = browserSuite('first', {
      admin: true,
      env: () => ({ GATEHOUSE_PASSWORD_MIN_LENGTH: String(MIN_LENGTH) }),
    });
    const nativeDialogs: string[] = [];

    async function phonePage(userAgent: string): Promise<Page> {
      const page = await suite.newPage({ viewport: PHONE, userAgent, hasTouch: true });
      // Every confirmation is the app's own dialog; a native one would be a defect.
      page.on('dialog', (dialog) => {
        nativeDialogs.push(`native dialog: ${dialog.message()}`);
        void dialog.dismiss();
      });
      return page;
    }

    it('tells the page the server’s minimum password length, without inline script', async () => {
      const response = await fetch(`${suite.url}/`);
      const html = await response.text();
      assert.match(
        html,
        new RegExp(`<meta name="gatehouse-password-min-length" content="${MIN_LENGTH}"`),
      );
      assert.doesNotMatch(html, /<script>|<style>| style=/);
      assert.match(
        String(response.headers.get('content-security-policy')),
        /script-src 'self'(;|$)/,
      );
    });

    it('walks from the first page to signing another device out, then an admin finds it', async () => {
      const email = `first-visit-${process.pid}@example.com`;
      const phone = await phonePage(PHONE_UA);

      // The first page says what this is and offers the two ways in.
      await phone.goto(`${suite.url}/`);
      await settled(phone);
      await phone.getByTestId('home-pitch').waitFor();
      await assertWayOn(phone, 'first page');
      await screenshot(phone, 'first-visit-home-phone');
      await phone.getByRole('link', { name: 'Create account' }).first().click();

      // Sign up: the policy shows the server's raised minimum, live.
      await phone.getByRole('heading', { name: 'Create an account' }).waitFor();
      await assertWayOn(phone, 'sign-up page');
      await phone.getByLabel('Email').fill(email);
      const password = phone.getByLabel('Password', { exact: true });
      await password.fill('elevenchars');
      const hint = phone.locator('.hint').filter({ hasText: 'characters' });
      assert.match(
        String(await hint.textContent()),
        new RegExp(`At least ${MIN_LENGTH} characters \\(1 more to go\\)`),
      );
      await password.fill(PASSWORD);
      assert.match(String(await hint.textContent()), /Length OK/);
      await phone.getByRole('button', { name: 'Show password' }).click();
      assert.equal(await password.getAttribute('type'), 'text');
      await phone.getByRole('button', { name: 'Show password' }).click();
      await phone.getByRole('button', { name: 'Create account' }).click();
      await phone.getByTestId('account-email').waitFor();
      await settled(phone);

      // Sign out and back in, as they will next time.
      await phone.getByRole('button', { name: 'Sign out', exact: true }).click();
      await phone.getByRole('heading', { name: 'Sign in' }).waitFor();
      await assertWayOn(phone, 'sign-in page');
      await submitSignIn(phone, email, PASSWORD);
      await phone.getByTestId('account-email').waitFor();

      // A second device signs in too (a laptop).
      const laptop = await phonePage(LAPTOP_UA);
      await laptop.goto(`${suite.url}/#/signin`);
      await submitSignIn(laptop, email, PASSWORD);
      await laptop.getByTestId('account-email').waitFor();

      // The phone's sessions name both devices; the laptop's button names the laptop.
      await phone.reload();
      await phone.getByRole('heading', { name: 'Sessions (2)' }).waitFor();
      const sessions = phone.getByTestId('sessions');
      await sessions.getByText('Chrome on Android').waitFor();
      await sessions.getByText('Firefox on Windows').waitFor();
      await assertWayOn(phone, 'account page');
      await screenshot(phone, 'first-visit-account-phone');
      await phone.getByRole('button', { name: 'Sign out Firefox on Windows' }).click();
      await phone.getByRole('heading', { name: 'Sessions (1)' }).waitFor();
      await phone.getByText('Signed out the session on Firefox on Windows.').waitFor();
      assert.equal(await sessions.getByText('Firefox on Windows').count(), 0);

      // The laptop learns why at its next page.
      await laptop.reload();
      await laptop.getByRole('heading', { name: 'Sign in' }).waitFor();
      await laptop.getByTestId('signed-out-reason').waitFor();

      // An admin, also on a phone, finds what this user did last: Users -> View activity.
      const admin = await phonePage(PHONE_UA);
      await admin.goto(`${suite.url}/`);
      await settled(admin);
      await admin.getByRole('link', { name: 'Sign in' }).first().click();
      await submitSignIn(admin, ADMIN.email, ADMIN.password);
      await admin.getByTestId('account-email').waitFor();
      await admin.getByRole('link', { name: 'Users' }).click();
      await admin.getByTestId('users').waitFor();
      await assertWayOn(admin, 'users page');
      await admin.getByLabel('Email starts with').fill('first-visit');
      await admin.getByRole('button', { name: 'Search' }).click();
      await admin.getByTestId('users-count').getByText('1 user').waitFor();
      await admin.getByRole('link', { name: `View activity of ${email}` }).click();
      await admin.getByRole('heading', { name: 'Audit log' }).waitFor();
      await admin.getByTestId('audit').locator('tbody tr').first().waitFor();
      const links = await assertWayOn(admin, 'audit log');
      assert.ok(links.includes('Users'), 'the audit log leads back to the users list');
      await screenshot(admin, 'first-visit-audit-phone');

      // Newest first: the sign-out of the laptop, done by this user, named by email.
      const newest = admin.getByTestId('audit').locator('tbody tr').first();
      const cells = await newest.locator('td').allTextContents();
      assert.equal(cells[1], 'session.logout', `the newest entry: ${cells.join(' | ')}`);
      assert.ok(cells[2]?.startsWith(email), `the actor is shown by email: ${cells[2]}`);
      // Every entry concerns this user (the filter from "View activity").
      const rows = await admin.getByTestId('audit').locator('tbody tr').allTextContents();
      assert.ok(rows.length >= 4, `sign-up, sign-ins and the sign-out: ${rows.length}`);
      for (const text of rows) assert.ok(text.includes(email), `an entry of this user: ${text}`);
      assert.deepEqual([...suite.foreign, ...nativeDialogs], []);
    });
  },
);
