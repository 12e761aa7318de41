import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import type { Page } from 'playwright-core';
import { browserSuite, settled, signInToAccount } from '../support/browser-suite.ts';
import { me, passwordLogin, refresh } from '../support/client.ts';
import { axeViolations, formatViolations } from './axe.ts';
import { addVirtualAuthenticator, browserSkip, screenshot } from './browser.ts';

// "Sign out other sessions" (POST /logout/others) on the account page, and the offer of it
// after a second factor changes (ASVS 5.0 7.4.3): two browsers and an API client are one
// user's three sessions; the first ends the other two and stays signed in.

const PASSWORD = 'correct horse battery staple';
const OFFER_ONE = 'You have 1 other session: sign it out under Sessions if it isn’t yours.';
/** The offer beside the button, in the Sessions card. */
const NOTE_ONE =
  'Your sign-in methods just changed: if the other session isn’t yours, sign it out.';

const status = (page: Page) =>
  page.evaluate("document.getElementById('status').textContent") as Promise<string>;

describe('signing out the other sessions in the web UI', { skip: browserSkip }, () => {
  // localhost: a secure context and a valid WebAuthn RP ID, so passkeys can be added.
  const suite = browserSuite('sign-out-others', { address: 'localhost' });
  let users = 0;

  async function newUser(): Promise<string> {
    const email = `others-${process.pid}-${++users}@example.com`;
    await suite.register(email, PASSWORD);
    return email;
  }

  /** A page signed in to the account page as `email`; axe needs the CSP bypassed. */
  async function signedInPage(email: string): Promise<Page> {
    const page = await suite.newPage({ bypassCSP: true });
    await signInToAccount(page, suite.url, email, PASSWORD);
    await settled(page);
    return page;
  }

  async function assertNoAxeViolations(page: Page, where: string): Promise<void> {
    const violations = await axeViolations(page);
    assert.deepEqual(violations.length, 0, formatViolations(where, violations));
  }

  it('ends the other browser and API sessions from the account page, after confirmation', async () => {
    const email = await newUser();
    const api = await passwordLogin(suite.server.app, email, PASSWORD);
    const other = await signedInPage(email);
    const page = await signedInPage(email);
    await page.getByRole('heading', { name: 'Sessions (3)', exact: true }).waitFor();
    await assertNoAxeViolations(page, 'account with other sessions');

    const button = page.getByRole('button', { name: 'Sign out other sessions', exact: true });
    // Cancel first: nothing ends, focus returns to the button.
    await button.click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    assert.match(String(await dialog.textContent()), /2 other sessions/);
    await assertNoAxeViolations(page, 'sign out other sessions confirmation');
    await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(
      await page.evaluate('document.activeElement?.textContent'),
      'Sign out other sessions',
    );
    assert.equal((await me(suite.server.app, api.accessToken)).statusCode, 200);

    await button.click();
    await dialog.getByRole('button', { name: 'Sign out other sessions', exact: true }).click();
    await page.getByRole('heading', { name: 'Sessions (1)', exact: true }).waitFor();
    assert.equal(await status(page), 'Signed out 2 other sessions.');
    assert.equal(await button.count(), 0, 'nothing else to sign out');
    await screenshot(page, 'sign-out-others-done');

    // The API client's tokens are refused at once; this browser stays signed in.
    assert.equal((await me(suite.server.app, api.accessToken)).statusCode, 401);
    const refused = await refresh(suite.server.app, api.refreshToken);
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.json().error, 'invalid_grant');
    await page.reload();
    await page.getByTestId('account-email').waitFor();

    // The other browser is back at sign-in on its next page load, and told why.
    await other.reload();
    await other.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
    assert.equal(
      await other.getByTestId('signed-out-reason').textContent(),
      'You were signed out because this session was ended from another device.',
    );
    assert.deepEqual(suite.foreign, []);
  });

  it('offers it after TOTP is turned on (once the codes are saved), new recovery codes and TOTP off, while another session exists', async () => {
    const email = await newUser();
    await passwordLogin(suite.server.app, email, PASSWORD);
    const page = await signedInPage(email);
    await page.getByRole('heading', { name: 'Sessions (2)', exact: true }).waitFor();

    await page.getByLabel('Password for two-factor', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Set up two-factor authentication' }).click();
    await page.getByAltText('QR code for your authenticator app').waitFor();
    const secret = await page.getByLabel('Setup key', { exact: true }).inputValue();
    const code = TOTP.generate({ secret: Secret.fromBase32(secret), digits: 6, period: 30 });
    await page.getByLabel('Code from the app', { exact: true }).fill(code);
    await page.getByRole('button', { name: 'Turn on', exact: true }).click();
    // The recovery codes stay on screen until the user says they are saved.
    await page.getByTestId('recovery-codes').waitFor();
    assert.equal(await status(page), 'Two-factor authentication is on.');
    await page.getByRole('button', { name: 'I saved my codes', exact: true }).click();
    await page.getByTestId('mfa-status').getByText('10 recovery codes left').waitFor();
    assert.equal(await status(page), `Two-factor authentication is on. ${OFFER_ONE}`);
    const offer = page.getByTestId('other-sessions-offer');
    assert.equal(await offer.textContent(), NOTE_ONE);
    const button = page.getByRole('button', { name: 'Sign out other sessions', exact: true });
    assert.equal(
      await button.getAttribute('aria-describedby'),
      await offer.getAttribute('id'),
      'the button is described by the offer',
    );
    await assertNoAxeViolations(page, 'account with the offer');
    await screenshot(page, 'sign-out-others-offer');

    // New recovery codes replace a factor too: the offer comes again once they are saved.
    await page.getByLabel('Password for two-factor', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'New recovery codes', exact: true }).click();
    await page.getByTestId('recovery-codes').waitFor();
    await page.getByRole('button', { name: 'I saved my codes', exact: true }).click();
    await page.getByTestId('mfa-status').getByText('10 recovery codes left').waitFor();
    assert.equal(
      await status(page),
      `New recovery codes are in place: the old ones no longer work. ${OFFER_ONE}`,
    );
    assert.equal(await offer.textContent(), NOTE_ONE);

    await page.getByLabel('Password for two-factor', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Turn off two-factor', exact: true }).click();
    await page.getByTestId('mfa-status').getByText('Off').waitFor();
    assert.equal(await status(page), `Two-factor authentication is off. ${OFFER_ONE}`);
    assert.equal(await offer.textContent(), NOTE_ONE);

    // Signed out: the offer goes with the other session.
    await button.click();
    await page
      .getByRole('dialog')
      .getByRole('button', { name: 'Sign out other sessions', exact: true })
      .click();
    await page.getByRole('heading', { name: 'Sessions (1)', exact: true }).waitFor();
    assert.equal(await status(page), 'Signed out 1 other session.');
    assert.equal(await offer.count(), 0);
  });

  it('offers it after a passkey is added or deleted, and not when there is no other session', async () => {
    const email = await newUser();
    // Before any passkey: with one, the password alone no longer signs in.
    await passwordLogin(suite.server.app, email, PASSWORD);
    const page = await signedInPage(email);
    await addVirtualAuthenticator(page);
    await page.getByRole('heading', { name: 'Sessions (2)', exact: true }).waitFor();
    const added = 'Passkey added. Signing in now needs the passkey (or your second factor).';
    const addPasskey = async (name: string, count: number) => {
      await page.getByLabel('Passkey name', { exact: true }).fill(name);
      await page.getByLabel('Password to add a passkey', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Add a passkey', exact: true }).click();
      await page.getByRole('heading', { name: `Passkeys (${count})`, exact: true }).waitFor();
    };
    await addPasskey('First', 1);
    assert.equal(await status(page), `${added} ${OFFER_ONE}`);
    await page.getByRole('button', { name: 'Delete the passkey First', exact: true }).click();
    await page
      .getByRole('dialog')
      .getByRole('button', { name: 'Delete passkey', exact: true })
      .click();
    await page.getByRole('heading', { name: 'Passkeys (0)', exact: true }).waitFor();
    assert.equal(await status(page), `Passkey deleted. ${OFFER_ONE}`);
    assert.equal(await page.getByTestId('other-sessions-offer').textContent(), NOTE_ONE);

    await page.getByRole('button', { name: 'Sign out other sessions', exact: true }).click();
    await page
      .getByRole('dialog')
      .getByRole('button', { name: 'Sign out other sessions', exact: true })
      .click();
    await page.getByRole('heading', { name: 'Sessions (1)', exact: true }).waitFor();
    await addPasskey('Alone', 1);
    assert.equal(await status(page), added, 'no other session: nothing to offer');
    assert.equal(await page.getByTestId('other-sessions-offer').count(), 0);
  });
});
