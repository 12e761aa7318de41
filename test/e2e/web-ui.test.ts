import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  ADMIN,
  browserSuite,
  signIn,
  signInToAccount,
  submitSignUp,
} from '../support/browser-suite.ts';
import { browserSkip, screenshot } from './browser.ts';

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a brand new passphrase 2026';

describe('web UI in a real browser', { skip: browserSkip }, () => {
  const suite = browserSuite('web', { admin: true });
  const newPage = () => suite.newPage();

  it('serves the UI with a strict CSP and makes no request outside the origin', async () => {
    const response = await fetch(`${suite.url}/`);
    assert.equal(response.status, 200);
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const html = await response.text();
    assert.doesNotMatch(html, /<script>|<style>| style=/, 'no inline scripts or styles');
    const asset = /\/assets\/app-[0-9a-f]{12}\.js/.exec(html)?.[0];
    assert.ok(asset);
    assert.match(
      String((await fetch(`${suite.url}${asset}`)).headers.get('cache-control')),
      /immutable/,
    );
  });

  it('signs up, stays signed in across a reload, changes the password and ends sessions', async () => {
    const email = `e2e-${process.pid}@example.com`;
    const page = await newPage();
    await page.goto(`${suite.url}/#/signup`);
    await screenshot(page, 'sign-up');

    // The server's policy message is shown at the field.
    await submitSignUp(page, email, 'password1');
    await page
      .getByText(/too common/)
      .first()
      .waitFor();
    assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true');
    await screenshot(page, 'sign-up-policy-error');

    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByTestId('account-email').waitFor();
    assert.equal(await page.getByTestId('account-email').textContent(), email);
    assert.equal(await page.getByTestId('account-role').textContent(), 'user');

    // The access token lives in memory only: nothing in web storage, the refresh cookie is HttpOnly.
    assert.equal(await page.evaluate('localStorage.length + sessionStorage.length'), 0);
    assert.equal(await page.evaluate('document.cookie'), '');

    await page.reload();
    await page.getByTestId('account-email').waitFor();
    assert.equal(
      await page.getByTestId('account-email').textContent(),
      email,
      'still signed in after reload',
    );
    await screenshot(page, 'account');

    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByLabel('New password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Password changed').waitFor();

    const other = await newPage();
    await signIn(other, suite.url, email, PASSWORD);
    await other.getByText('Incorrect email or password.').first().waitFor();
    await screenshot(other, 'sign-in-error');
    await signInToAccount(other, suite.url, email, NEW_PASSWORD);

    await page.reload();
    await page.getByRole('heading', { name: 'Sessions (2)' }).waitFor();
    assert.equal(await page.getByText('This device').count(), 1);

    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    // It asks first: Cancel keeps everything, and focus goes back to the button.
    const dialog = page.getByRole('dialog', { name: 'Sign out everywhere?' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Sign out everywhere');
    await page.getByRole('heading', { name: 'Sessions (2)' }).waitFor();
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await dialog.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await other.reload();
    await other.getByRole('heading', { name: 'Sign in' }).waitFor();
    await screenshot(other, 'sign-in');
    await page.close();
    await other.close();
    assert.deepEqual(suite.foreign, []);
  });

  it('keeps the session when two tabs restore it at the same moment', async () => {
    const email = `two-tabs-${process.pid}@example.com`;
    await suite.register(email, PASSWORD);
    // One browser context: one cookie jar, as two tabs of one browser share it.
    const first = await newPage();
    const context = first.context();
    await signInToAccount(first, suite.url, email, PASSWORD);

    const tabs = [await context.newPage(), await context.newPage()];
    // Hold the refreshes until both tabs have asked for one, then let them go at once: without
    // coordination both present the same cookie (the race a user hits when the browser restores
    // several tabs), whatever the machine's speed. "Asked" is a second request here, or the
    // other tab queued behind the first one's lock (Web Locks API).
    let held = 0;
    let bothAsked: Promise<void> | undefined;
    const queuedForLock = (tab: Page) =>
      tab
        .evaluate('navigator.locks?.query().then((q) => q.pending.length) ?? 0')
        .then(Number)
        .catch(() => 0);
    async function untilBothAsked(): Promise<void> {
      // Bounded, so a broken UI fails the assertions below instead of hanging the suite.
      for (let i = 0; i < 500 && held < 2; i++) {
        if ((await Promise.all(tabs.map(queuedForLock))).some((n) => n > 0)) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    await context.route('**/token', async (route) => {
      held += 1;
      bothAsked ??= untilBothAsked();
      await bothAsked;
      await route.continue();
    });
    await Promise.all(tabs.map((tab) => tab.goto(`${suite.url}/#/account`)));
    for (const tab of tabs) {
      await tab.getByTestId('account-email').waitFor();
      assert.equal(await tab.getByTestId('account-email').textContent(), email);
    }
    await context.unroute('**/token');
    // The session is still alive: the signed-in tab's access token works, and a reload (one
    // more refresh of the cookie) keeps the user signed in.
    // (#/signup sends a signed-in user back to #/account, and anyone else to the sign-up form.)
    await first.evaluate("location.hash = '#/signup'");
    await first.waitForURL(`${suite.url}/#/account`);
    assert.equal(await first.getByRole('heading', { name: 'Create an account' }).count(), 0);
    await tabs[0]!.reload();
    await tabs[0]!.getByTestId('account-email').waitFor();
    for (const page of [first, ...tabs]) await page.close();
  });

  it('lets an admin promote a user, who sees the admin pages next, and disabling signs it out', async () => {
    const email = `promoted-${process.pid}@example.com`;
    await suite.register(email, PASSWORD);

    const userPage = await newPage();
    await signInToAccount(userPage, suite.url, email, PASSWORD);
    assert.equal(await userPage.getByRole('link', { name: 'Users' }).count(), 0);

    const adminPage = await newPage();
    await signInToAccount(adminPage, suite.url, ADMIN.email, ADMIN.password);
    await adminPage.getByRole('link', { name: 'Users' }).click();
    await adminPage.getByTestId('users').waitFor();
    await adminPage.getByLabel('Email starts with').fill('promoted-');
    await adminPage.getByRole('button', { name: 'Search' }).click();
    // The search's own answer, not the unfiltered list before it (which shows this user too):
    // a select chosen there is replaced, unchosen, when the search's table is drawn.
    await adminPage
      .getByTestId('users-count')
      .getByText(/(^|of )1 user$/)
      .waitFor();
    await adminPage.getByRole('cell', { name: email, exact: true }).waitFor();
    // Choosing a role saves nothing; Save asks before a promotion (test/e2e/admin-ui.test.ts).
    await adminPage.getByLabel(`Role of ${email}`, { exact: true }).selectOption('admin');
    await adminPage.getByRole('button', { name: `Save role of ${email}` }).click();
    await adminPage.getByRole('dialog').getByRole('button', { name: 'Make admin' }).click();
    await adminPage.getByText(`${email} is now admin.`).waitFor();
    await screenshot(adminPage, 'admin-users');

    // The audit page lists the role change.
    await adminPage.getByRole('link', { name: 'Audit log' }).click();
    await adminPage.getByRole('cell', { name: 'user.role_changed' }).first().waitFor();
    await screenshot(adminPage, 'admin-audit');

    // The promoted user sees the admin pages on its next navigation, without signing in again.
    await userPage.getByRole('link', { name: 'Account' }).click();
    await userPage.reload();
    await userPage.getByRole('link', { name: 'Users' }).click();
    await userPage.getByTestId('users').waitFor();
    assert.equal(await userPage.getByTestId('account-email').count(), 0);

    // Disabling the user ends its sessions: its next navigation lands on the sign-in page.
    await adminPage.getByRole('link', { name: 'Users' }).click();
    await adminPage.getByTestId('users').waitFor();
    await adminPage.getByRole('cell', { name: email, exact: true }).waitFor();
    const row = adminPage.getByRole('row').filter({ hasText: email });
    await row.getByRole('button', { name: 'Disable' }).click();
    await adminPage.getByRole('dialog').getByRole('button', { name: 'Disable' }).click();
    await adminPage.getByText(`${email} disabled.`).waitFor();
    await userPage.getByRole('link', { name: 'Account' }).click();
    await userPage.getByRole('heading', { name: 'Sign in' }).waitFor();

    // Deleting asks first.
    await row.getByRole('button', { name: 'Delete' }).click();
    await adminPage.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await adminPage.getByText(`${email} deleted.`).waitFor();

    // The last active admin can't demote itself: the 409 is shown plainly, next to the role
    // (tied to the focused select by aria-describedby), not at the top of the page.
    await adminPage.getByLabel(`Role of ${ADMIN.email}`, { exact: true }).selectOption('user');
    await adminPage.getByRole('button', { name: `Save role of ${ADMIN.email}` }).click();
    await adminPage
      .getByText(/last active admin/i)
      .first()
      .waitFor();
    const described = String(
      await adminPage.evaluate(
        `(() => { const el = document.activeElement; const ids = (el?.getAttribute('aria-describedby') ?? '').split(' '); return el?.getAttribute('aria-label') + ' | ' + ids.map((id) => document.getElementById(id)?.textContent ?? '').join(' '); })()`,
      ),
    );
    assert.match(described, new RegExp(`^Role of ${ADMIN.email} \\| .*last active admin`, 'i'));
    // Redrawn from the server: the select shows the role that stands, not the one refused.
    // (A locator, not waitForFunction: the page's CSP forbids the eval that would need.)
    await adminPage
      .locator(`select[aria-label="Role of ${ADMIN.email}"] option[value="admin"]:checked`)
      .waitFor({ state: 'attached' });
    await screenshot(adminPage, 'admin-last-admin-error');
    await userPage.close();
    await adminPage.close();
    assert.deepEqual(suite.foreign, []);
  });

  it('can be used from the keyboard alone, on a phone-width screen, in the dark theme', async () => {
    const email = `keyboard-${process.pid}@example.com`;
    await suite.register(email, PASSWORD);
    const page = await suite.newPage({
      colorScheme: 'dark',
      viewport: { width: 375, height: 740 },
    });
    await page.goto(`${suite.url}/#/signin`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    // Tab from the top of the page to the email field, as a keyboard user would.
    let focused = '';
    for (let i = 0; i < 10 && focused !== 'username'; i++) {
      await page.keyboard.press('Tab');
      focused = String(await page.evaluate('document.activeElement?.getAttribute("name") ?? ""'));
    }
    assert.equal(focused, 'username', 'the email field is reachable with Tab');
    await page.keyboard.type(email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByTestId('account-email').waitFor();
    const background = String(
      await page.evaluate('getComputedStyle(document.body).backgroundColor'),
    );
    assert.notEqual(background, 'rgb(246, 247, 249)', 'the dark theme follows the system setting');
    const overflow = Number(
      await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'),
    );
    assert.ok(overflow <= 0, `no horizontal scrolling at phone width (${overflow}px too wide)`);
    await screenshot(page, 'account-phone-dark');
    await page.close();
    assert.deepEqual(suite.foreign, []);
  });
});
