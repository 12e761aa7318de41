import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  ADMIN,
  assertDialogEscapes,
  browserSuite,
  signInToAccount,
} from '../support/browser-suite.ts';
import { waitFor } from '../support/wait.ts';
import { browserSkip, screenshot } from './browser.ts';

// The admin pages: what an admin trips over, walked through in Chromium.

const PASSWORD = 'a user passphrase for e2e';
const PAGER = `pager-${process.pid}`;

describe('web UI: admin users and audit log in a real browser', { skip: browserSkip }, () => {
  const suite = browserSuite('admin', {
    admin: true,
    env: () => ({ GATEHOUSE_RATE_LIMIT_REGISTER: '1000' }),
  });
  let adminToken: string;

  async function api(method: string, path: string, body?: unknown, token = adminToken) {
    const response = await fetch(`${suite.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : null };
  }

  async function tokenFor(email: string, password: string): Promise<string> {
    const response = await fetch(`${suite.url}/token`, {
      method: 'POST',
      body: new URLSearchParams({ username: email, password }),
    });
    assert.equal(response.status, 200);
    return ((await response.json()) as { access_token: string }).access_token;
  }

  const register = (email: string) => suite.register(email, PASSWORD);

  async function adminPage(): Promise<Page> {
    const page = await suite.newPage();
    await signInToAccount(page, suite.url, ADMIN.email, ADMIN.password);
    return page;
  }

  /** The user id of the row holding the focused element, if any. */
  const focusedRow = (page: Page) =>
    page.evaluate("document.activeElement?.closest('tr')?.getAttribute('data-user-id')");

  /**
   * Waits for focus to be back on the row of user `id` (fails if it never is): the success
   * message can show a moment before the redrawn table takes focus.
   */
  const focusBackOn = (page: Page, id: number) =>
    waitFor(
      `focus back on the row of user ${id}`,
      async () => (await focusedRow(page)) === String(id),
      10_000,
    );

  // After the suite's own `before` (hooks run in the order they are declared).
  before(async () => {
    adminToken = await tokenFor(ADMIN.email, ADMIN.password);
    for (let i = 0; i < 23; i += 1)
      await register(`${PAGER}-${String(i).padStart(2, '0')}@example.com`);
  });

  it('an arrow key on the role select saves nothing; Save asks before a promotion', async () => {
    const email = `promote-${process.pid}@example.com`;
    const id = await register(email);
    const page = await adminPage();
    const patches: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'PATCH') patches.push(request.url());
    });
    await page.goto(`${suite.url}/#/admin/users?email_prefix=promote-`);
    const role = page.getByLabel(`Role of ${email}`, { exact: true });
    const save = page.getByRole('button', { name: `Save role of ${email}` });
    assert.equal(await save.isDisabled(), true, 'nothing to save yet');

    await role.focus();
    await page.keyboard.press('ArrowDown');
    assert.equal(await role.inputValue(), 'admin', 'the arrow key chose admin in the page');
    await page.keyboard.press('Tab');
    assert.equal(await save.isEnabled(), true);

    // Save asks first; Escape (keyboard) and Cancel both leave the user a user.
    await save.click();
    const dialog = page.getByRole('dialog', { name: `Make ${email} an admin?` });
    await assertDialogEscapes(page, dialog);
    // The select goes back when the dialog's close event runs, a moment after it shuts.
    await waitFor(
      'the select to show what is saved',
      async () => (await role.inputValue()) === 'user',
      10_000,
    );
    assert.equal((await api('GET', `/users/${id}`)).json.role, 'user');

    await role.selectOption('admin');
    await save.click();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.deepEqual(patches, [], 'no PATCH for the arrow key, Escape or Cancel');
    assert.equal((await api('GET', `/users/${id}`)).json.role, 'user');

    await role.selectOption('admin');
    await save.click();
    await screenshot(page, 'admin-confirm-promotion');
    await dialog.getByRole('button', { name: 'Make admin' }).click();
    await page.getByText(`${email} is now admin.`).waitFor();
    assert.equal(patches.length, 1);
    assert.equal((await api('GET', `/users/${id}`)).json.role, 'admin');
    await focusBackOn(page, id);

    // A demotion needs no confirmation.
    await role.selectOption('user');
    await save.click();
    await page.getByText(`${email} is now user.`).waitFor();
    assert.equal((await api('GET', `/users/${id}`)).json.role, 'user');
  });

  it('disable and "Sign out everywhere" ask first, and focus returns to the row', async () => {
    const email = `target-${process.pid}@example.com`;
    const id = await register(email);
    const userToken = await tokenFor(email, PASSWORD);
    const page = await adminPage();
    await page.goto(`${suite.url}/#/admin/users?email_prefix=target-`);
    const row = page.locator(`tr[data-user-id="${id}"]`);

    await row.getByRole('button', { name: 'Sign out everywhere' }).click();
    const signOut = page.getByRole('dialog', { name: `Sign ${email} out everywhere?` });
    await signOut.getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await api('GET', '/users/me/', undefined, userToken)).status, 200);
    await row.getByRole('button', { name: 'Sign out everywhere' }).click();
    await signOut.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.getByText(`${email} is signed out everywhere.`).waitFor();
    assert.equal((await api('GET', '/users/me/', undefined, userToken)).status, 401);
    await focusBackOn(page, id);

    await row.getByRole('button', { name: 'Disable' }).click();
    const disable = page.getByRole('dialog', { name: `Disable ${email}?` });
    await disable.getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await api('GET', `/users/${id}`)).json.disabled, false);
    await row.getByRole('button', { name: 'Disable' }).click();
    await disable.getByRole('button', { name: 'Disable' }).click();
    await page.getByText(`${email} disabled.`).waitFor();
    assert.equal((await api('GET', `/users/${id}`)).json.disabled, true);
    await row.getByText('disabled', { exact: true }).waitFor();
    await focusBackOn(page, id);
  });

  it('pages forward and back with a total, shows ids, and "View activity" opens the filtered log', async () => {
    const page = await adminPage();
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByTestId('users').waitFor();
    await page.getByLabel('Email starts with').fill(PAGER);
    await page.getByRole('button', { name: 'Search' }).click();
    const count = page.getByTestId('users-count');
    await count.getByText('1–20 of 23 users').waitFor();
    const firstEmail = `${PAGER}-00@example.com`;
    await page.getByRole('cell', { name: firstEmail, exact: true }).waitFor();

    await page.getByRole('button', { name: 'Next page' }).click();
    await count.getByText('21–23 of 23 users').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Next page' }).count(), 0);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await count.getByText('1–20 of 23 users').waitFor();
    await page.getByRole('cell', { name: firstEmail, exact: true }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Previous page' }).count(), 0);

    const { items } = (await api('GET', `/users/?email_prefix=${PAGER}-00`)).json as {
      items: { id: number }[];
    };
    const id = items[0]!.id;
    const row = page.locator(`tr[data-user-id="${id}"]`);
    assert.equal(await row.getByRole('cell', { name: String(id), exact: true }).count(), 1);
    await api('PATCH', `/users/${id}`, { disabled: true });
    await row.getByRole('link', { name: `View activity of ${firstEmail}` }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    assert.equal(await page.getByLabel('User id or email').inputValue(), String(id));
    const rows = page.getByTestId('audit').locator('tbody tr');
    await rows.first().waitFor();
    const subjects = await rows.locator('td[data-label="Subject"]').allTextContents();
    assert.ok(subjects.length >= 2, 'registered and disabled');
    for (const subject of subjects) assert.equal(subject, `${firstEmail} (#${id})`);
    const actors = await page
      .getByTestId('audit')
      .locator('tr', { hasText: 'user.disabled' })
      .locator('td[data-label="Actor"]')
      .allTextContents();
    assert.deepEqual(actors, [`${ADMIN.email} (#1)`]);
    await screenshot(page, 'admin-audit-user');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'admin-audit-user-phone');
    await page.goBack();
    await page.getByTestId('users-count').waitFor();
    await screenshot(page, 'admin-users-phone');
  });

  it('audit log: a type select from the server, field errors without stale rows, kept filters, Clear filters', async () => {
    const email = `audited-${process.pid}@example.com`;
    await register(email);
    const failed = await fetch(`${suite.url}/token`, {
      method: 'POST',
      body: new URLSearchParams({ username: email, password: 'not the password' }),
    });
    assert.equal(failed.status, 401);

    const page = await adminPage();
    await page.getByRole('link', { name: 'Audit log' }).click();
    const rows = page.getByTestId('audit').locator('tbody tr');
    await rows.first().waitFor();
    const type = page.getByLabel('Event type');
    const offered = await type
      .locator('option')
      .evaluateAll((options) => options.map((o) => o.getAttribute('value')));
    const { json } = await api('GET', '/audit/types');
    assert.deepEqual(offered, ['', ...(json as { items: string[] }).items]);

    await type.selectOption('login.failed');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await page.waitForURL(/type=login\.failed/);
    // The previous (unfiltered) table stays on screen, aria-busy, until the filtered one is
    // drawn: wait for the redraw rather than for any row naming the email.
    await waitFor('the filtered table', async () => {
      const shown = await rows.locator('td[data-label="Event"]').allTextContents();
      return shown.length > 0 && shown.every((e) => e === 'login.failed');
    });
    await page.getByTestId('audit').locator('tbody tr', { hasText: email }).first().waitFor();
    const events = await rows.locator('td[data-label="Event"]').allTextContents();
    assert.ok(events.length >= 1);
    assert.ok(
      events.every((e) => e === 'login.failed'),
      events.join(),
    );
    assert.equal(await type.inputValue(), 'login.failed', 'the filter keeps its value');

    // A hand-edited URL with a bad time: the error at Since, and no rows under that URL.
    await page.evaluate("location.hash = '#/admin/audit?since=yesterday'");
    const since = page.getByLabel('Since');
    await page.getByText(/“yesterday”: Input should be an ISO 8601/).waitFor();
    assert.equal(await since.getAttribute('aria-invalid'), 'true');
    assert.equal(await rows.count(), 0, 'no stale rows');
    await screenshot(page, 'admin-audit-bad-since');

    // Every filter keeps its value after filtering, and the old error is gone.
    await page.getByLabel('User id or email').fill(email.toUpperCase());
    await type.selectOption('login.failed');
    await since.fill('2020-01-02T03:04');
    await page.getByLabel('Until').fill('2099-12-31T23:59');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await page.waitForURL(/user_email=/);
    await page.getByTestId('audit').locator('tbody tr', { hasText: email }).waitFor();
    assert.equal(await rows.count(), 1);
    assert.equal(await page.getByLabel('User id or email').inputValue(), email.toUpperCase());
    assert.equal(await type.inputValue(), 'login.failed');
    assert.equal(await since.inputValue(), '2020-01-02T03:04');
    assert.equal(await page.getByLabel('Until').inputValue(), '2099-12-31T23:59');
    assert.equal(await since.getAttribute('aria-invalid'), null);
    assert.equal(await page.getByText(/ISO 8601/).count(), 0);

    // A type the server doesn't know (the old hint's login_failed): the error at the select.
    await page.evaluate("location.hash = '#/admin/audit?type=login_failed'");
    await page.getByTestId('audit-error').waitFor();
    assert.equal(await type.getAttribute('aria-invalid'), 'true');
    assert.equal(await rows.count(), 0);

    await page.getByRole('button', { name: 'Clear filters' }).click();
    await rows.first().waitFor();
    assert.equal(await type.inputValue(), '');
    assert.equal(await page.getByLabel('User id or email').inputValue(), '');
    assert.equal(await since.inputValue(), '');
    assert.equal(await page.getByTestId('audit-error').count(), 0);
    assert.doesNotMatch(page.url(), /type=/);
  });
});
