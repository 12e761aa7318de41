import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CDPSession, Page } from 'playwright-core';
import {
  assertDialogEscapes,
  browserSuite,
  signIn,
  signInToAccount,
} from '../support/browser-suite.ts';
import { addVirtualAuthenticator, browserSkip, screenshot } from './browser.ts';

// Passkeys end to end in Debian's Chromium with a virtual authenticator (Chrome
// DevTools Protocol, WebAuthn domain). The page is http://localhost:PORT: a secure context
// and a valid RP ID (127.0.0.1 would be neither an RP ID nor a registrable domain).

const PASSWORD = 'correct horse battery staple';

/**
 * Runs in the page: a real assertion from the virtual authenticator, whose clientDataJSON is
 * then rewritten to claim another origin, sent to the passwordless grant. Resolves to the
 * /token answer.
 */
const assertionClaiming = (origin: string | null) => `(async () => {
  const { options } = await fetch('/webauthn/authentication/options', { method: 'POST' }).then((r) => r.json());
  const b64 = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const out = (b) => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/[+]/g, '-').replace(/[/]/g, '_').replace(/=+$/, '');
  const credential = await navigator.credentials.get({
    publicKey: { challenge: b64(options.challenge), rpId: options.rpId, userVerification: 'required' },
  });
  const response = credential.response;
  const clientData = JSON.parse(new TextDecoder().decode(response.clientDataJSON));
  const origin = ${JSON.stringify(origin)};
  if (origin !== null) clientData.origin = origin;
  const forged = {
    id: credential.id,
    rawId: out(credential.rawId),
    type: 'public-key',
    response: {
      clientDataJSON: out(new TextEncoder().encode(JSON.stringify(clientData))),
      authenticatorData: out(response.authenticatorData),
      signature: out(response.signature),
      userHandle: response.userHandle ? out(response.userHandle) : undefined,
    },
    clientExtensionResults: {},
  };
  const token = await fetch('/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'urn:gatehouse:params:oauth:grant-type:webauthn',
      credential: JSON.stringify(forged),
    }),
  });
  return { status: token.status, body: await token.json() };
})()`;

describe('passkeys in a real browser', { skip: browserSkip }, () => {
  const suite = browserSuite('passkeys', { address: 'localhost' });

  /** A page whose browser has a platform authenticator with resident keys and UV. */
  async function pageWithAuthenticator(): Promise<{ page: Page; cdp: CDPSession; id: string }> {
    const page = await suite.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    return { page, ...(await addVirtualAuthenticator(page)) };
  }

  const passwordSignIn = (page: Page, email: string) => signIn(page, suite.url, email, PASSWORD);

  async function signOut(page: Page): Promise<void> {
    await page.getByRole('button', { name: 'Sign out', exact: true }).first().click();
    await page.waitForURL(/#\/signin/);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  }

  async function signUp(page: Page, email: string): Promise<void> {
    await suite.register(email, PASSWORD);
    await signInToAccount(page, suite.url, email, PASSWORD);
  }

  it('adds a passkey, signs in with it alone, needs it after the password, and deletes it', async () => {
    const email = `passkey-${process.pid}@example.com`;
    const { page, cdp, id } = await pageWithAuthenticator();
    await signUp(page, email);

    await page.getByLabel('Passkey name').fill('Test laptop');
    await page.getByLabel('Password to add a passkey').fill(PASSWORD);
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByRole('heading', { name: 'Passkeys (1)' }).waitFor();
    assert.equal(await page.getByTestId('passkeys').getByText('Test laptop').count(), 1);
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId: id });
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0]?.isResidentCredential, true);
    await screenshot(page, 'passkeys-account');

    // Passwordless: no email, no password.
    await signOut(page);
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByTestId('account-email').waitFor();
    assert.equal(await page.getByTestId('account-email').textContent(), email);

    // The password alone no longer signs in: the passkey is asked for as the second factor.
    await signOut(page);
    await passwordSignIn(page, email);
    await page.getByRole('button', { name: 'Use your passkey' }).click();
    await page.getByTestId('account-email').waitFor();

    // Deleted: the password alone signs in again, and the passkey no longer does.
    // It asks first in the app's own dialog (not window.confirm): Cancel keeps the passkey and
    // returns focus to its Delete button; confirming deletes it.
    const remove = page.getByRole('button', { name: 'Delete the passkey Test laptop' });
    await remove.click();
    const dialog = page.getByRole('dialog', { name: 'Delete the passkey “Test laptop”?' });
    await assertDialogEscapes(page, dialog);
    assert.equal(
      await page.evaluate('document.activeElement?.getAttribute("aria-label")'),
      'Delete the passkey Test laptop',
    );
    await page.getByRole('heading', { name: 'Passkeys (1)' }).waitFor();
    await remove.click();
    await dialog.getByRole('button', { name: 'Delete passkey' }).click();
    await page.getByRole('heading', { name: 'Passkeys (0)' }).waitFor();
    await signOut(page);
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByText(/not accepted/).waitFor();
    await passwordSignIn(page, email);
    await page.getByTestId('account-email').waitFor();
  });

  it('refuses an assertion made for another origin', async () => {
    const email = `passkey-origin-${process.pid}@example.com`;
    const { page } = await pageWithAuthenticator();
    await signUp(page, email);
    await page.getByLabel('Password to add a passkey').fill(PASSWORD);
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByRole('heading', { name: 'Passkeys (1)' }).waitFor();

    // The browser signs for the page's origin; a relay that presents the assertion as coming
    // from elsewhere is what a phishing site would do. Here the page rewrites clientDataJSON's
    // origin (breaking the signature as well) and the server refuses it.
    // A string, not a function: tsx's transform would add helpers the page doesn't have.
    type Answer = { status: number; body: { error?: string; access_token?: string } };
    const status = (await page.evaluate(assertionClaiming('https://evil.example.com'))) as Answer;
    assert.equal(status.status, 400);
    assert.equal(status.body.error, 'invalid_grant');
    // The same steps without the rewrite sign in: the refusal was the origin's.
    const control = (await page.evaluate(assertionClaiming(null))) as Answer;
    assert.equal(control.status, 200, JSON.stringify(control.body));
    assert.ok(control.body.access_token);
  });
});
