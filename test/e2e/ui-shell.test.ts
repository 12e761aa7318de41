import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page, Route } from 'playwright-core';
import { ADMIN, browserSuite, signInToAccount } from '../support/browser-suite.ts';
import { waitFor } from '../support/wait.ts';
import { browserSkip, screenshot } from './browser.ts';

// The shell every page shares: the first page, the loading state, the status line,
// where focus and scrolling go after a page change, and errors shown at the action.

const busy = (page: Page) =>
  page.evaluate("document.getElementById('main').getAttribute('aria-busy')");
const focusedText = (page: Page) =>
  page.evaluate("document.activeElement?.tagName + ' ' + document.activeElement?.textContent");
const status = (page: Page) =>
  page.evaluate("document.getElementById('status').textContent") as Promise<string>;

/** Holds every request to `path` until `release()`; `seen` resolves on the first. */
async function hold(page: Page, path: string) {
  const pattern = (url: URL) => url.pathname === path;
  const held: Route[] = [];
  let first!: () => void;
  const seen = new Promise<void>((resolve) => (first = resolve));
  let holding = true;
  await page.route(pattern, async (route) => {
    if (!holding) return route.continue();
    held.push(route);
    first();
  });
  return {
    seen,
    async release() {
      holding = false;
      for (const route of held.splice(0)) await route.continue();
    },
  };
}

describe('web UI shell: first page, loading, messages, focus', { skip: browserSkip }, () => {
  const suite = browserSuite('shell', { admin: true });

  const newPage = ({ width = 1280, height = 800 } = {}) =>
    suite.newPage({ viewport: { width, height } });
  const signInAsAdmin = (page: Page) =>
    signInToAccount(page, suite.url, ADMIN.email, ADMIN.password);

  it('greets a signed-out visitor with what Gatehouse is and the two ways in', async () => {
    const page = await newPage();
    await page.goto(`${suite.url}/`);
    await page.getByRole('heading', { level: 1, name: 'Welcome to Gatehouse' }).waitFor();
    assert.match(
      String(await page.getByTestId('home-pitch').textContent()),
      /^Gatehouse is the sign-in service for this site/,
    );
    const main = page.getByRole('main');
    assert.equal(await main.getByRole('link', { name: 'Sign in' }).count(), 1);
    await main.getByRole('link', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Create an account' }).waitFor();
    await page.goBack();
    await main.getByRole('link', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.goto(`${suite.url}/`);
    await screenshot(page, 'first-page');
    await page.close();
  });

  it('shows "Loading…" with aria-busy on first load and on page changes, keeping the page on screen', async () => {
    const page = await newPage();
    // First load: the silent refresh (POST /token) is held, so the page is still loading.
    const refresh = await hold(page, '/token');
    await page.goto(`${suite.url}/#/signin`, { waitUntil: 'domcontentloaded' });
    await refresh.seen;
    assert.equal(await busy(page), 'true');
    assert.equal(await page.getByText('Loading…').isVisible(), true);
    await refresh.release();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    // (A locator, not waitForFunction: the page's CSP forbids the eval that would need.)
    await page.locator('main:not([aria-busy])').waitFor();
    assert.equal(await page.getByText('Loading…').isVisible(), false);

    // A page change: the audit log's request is held; the users page stays until it answers.
    await signInAsAdmin(page);
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByTestId('users').waitFor();
    const audit = await hold(page, '/audit');
    await page.getByRole('link', { name: 'Audit log' }).click();
    await audit.seen;
    assert.equal(await busy(page), 'true');
    assert.equal(await page.getByText('Loading…').isVisible(), true);
    assert.equal(await page.getByTestId('users').count(), 1, 'the old page stays, never blank');
    await audit.release();
    await page.getByTestId('audit').waitFor();
    // (A locator, not waitForFunction: the page's CSP forbids the eval that would need.)
    await page.locator('main:not([aria-busy])').waitFor();
    await page.close();
  });

  it('keeps a success message through the redraw its action causes, and clears it on the next page', async () => {
    const page = await newPage();
    await signInAsAdmin(page);
    // "Signed in." was said before the UI went to the account page: it is still there.
    assert.equal(await status(page), 'Signed in.');
    assert.equal(await page.getByRole('status').textContent(), 'Signed in.');
    await page.getByRole('link', { name: 'API clients' }).click();
    await page.getByTestId('clients').waitFor();
    assert.equal(await status(page), '', 'the user went to another page: the message is gone');

    await page.getByLabel('Name', { exact: true }).fill('shell-api');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByTestId('secret').waitFor();
    assert.equal(await status(page), 'API client shell-api created.');
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByTestId('users').waitFor();
    assert.equal(await status(page), '');
    await page.close();
  });

  it('shows an error next to the button that failed, tied to it, not in the status line', async () => {
    const page = await newPage();
    await page.goto(`${suite.url}/#/reset-password?token=not-a-real-token`);
    await page.getByLabel('New password', { exact: true }).fill('another long passphrase 2026');
    const submit = page.getByRole('button', { name: 'Set new password' });
    await submit.click();
    const error = page.getByRole('alert');
    await error.getByText('This link is invalid or has expired. Ask for a new one.').waitFor();
    const errorId = await error.getAttribute('id');
    assert.ok(errorId);
    assert.match(String(await submit.getAttribute('aria-describedby')), new RegExp(errorId));
    // Right below the button, in the same form.
    assert.equal(
      await page.evaluate(
        `document.getElementById(${JSON.stringify(errorId)}).previousElementSibling?.textContent`,
      ),
      'Set new password',
    );
    assert.equal(await status(page), '');
    await page.close();
  });

  it('focuses the page heading after sign-in and page changes without scrolling the header away', async () => {
    const page = await newPage({ width: 390, height: 600 });
    await signInAsAdmin(page);
    assert.equal(await focusedText(page), 'H1 Your account');
    assert.equal(await page.evaluate('window.scrollY'), 0);
    const header = await page.locator('header.top').boundingBox();
    assert.ok(header && header.y >= 0, 'the header is on screen');

    // Scrolled to the bottom of the long account page, the user goes to another page.
    await page.evaluate('window.scrollTo(0, document.body.scrollHeight)');
    assert.ok(Number(await page.evaluate('window.scrollY')) > 0);
    await page.evaluate("location.hash = '#/admin/users'");
    await page.getByTestId('users').waitFor();
    assert.equal(await focusedText(page), 'H1 Users');
    assert.equal(await page.evaluate('window.scrollY'), 0, 'the new page starts at its top');
    await page.close();
  });

  it('keeps focus where the user acted: a deleted row hands focus to its table', async () => {
    const page = await newPage();
    await signInAsAdmin(page);
    await page.getByRole('link', { name: 'API clients' }).click();
    // Until the clients page replaces the account page, a bare 'Name' label would also match the
    // account page's "Passkey name" (a CI run filled that one and then sent an empty form).
    await page.getByTestId('clients').waitFor();
    for (const name of ['focus-a', 'focus-b']) {
      await page.getByLabel('Name', { exact: true }).fill(name);
      await page.getByRole('button', { name: 'Create' }).click();
      await page.getByRole('heading', { name: `API client “${name}” created` }).waitFor();
    }
    const row = page.getByRole('row').filter({ hasText: 'focus-b' });
    await row.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Confirm delete focus-b' }).click();
    await page.getByText('API client focus-b deleted.').waitFor();
    // The message can show a moment before the redrawn table takes focus: wait for focus to
    // land there (it fails if it never does), then check what holds it.
    const focusedLabel = () => page.evaluate("document.activeElement?.getAttribute('aria-label')");
    await waitFor(
      'focus on the table region the row was in',
      async () => (await focusedLabel()) === 'API clients',
      10_000,
    );
    assert.equal(await page.evaluate("document.activeElement?.getAttribute('role')"), 'region');
    await page.close();
  });
});
