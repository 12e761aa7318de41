import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { browserSuite, signIn as signInAt } from '../support/browser-suite.ts';
import { browserSkip } from './browser.ts';

// The account pages: reloads while rate limited keep the session, a signed-out
// device is told why, lockouts count down, sessions name their devices, password fields.

const PASSWORD = 'correct horse battery staple';

describe('account pages in a real browser', { skip: browserSkip }, () => {
  const suite = browserSuite('account', {
    // Small budgets, so the tests reach them: 8 page loads a minute, 3 failed logins.
    env: () => ({
      GATEHOUSE_RATE_LIMIT_REFRESH: '8',
      GATEHOUSE_LOGIN_FAILURES_BEFORE_LOCK: '3',
      GATEHOUSE_LOGIN_FIRST_LOCK: '30',
    }),
  });
  const newPage = () => suite.newPage();
  let users = 0;

  async function newUser(): Promise<string> {
    const email = `account-ui-${process.pid}-${++users}@example.com`;
    await suite.register(email, PASSWORD);
    return email;
  }

  const signIn = (page: Page, email: string, password = PASSWORD) =>
    signInAt(page, suite.url, email, password);

  it('tells a device its session was ended from another one (two devices)', async () => {
    const email = await newUser();
    const a = await newPage();
    const b = await newPage();
    await signIn(b, email);
    await b.getByRole('heading', { name: 'Your account' }).waitFor();
    await signIn(a, email);
    await a.getByRole('heading', { name: 'Your account' }).waitFor();

    // Devices by name, times relative with the exact time on hover.
    const sessions = a.getByTestId('sessions');
    await sessions.getByText('Chrome on Linux').first().waitFor();
    const time = sessions.locator('time').first();
    assert.match((await time.textContent()) ?? '', /now|second|minute/);
    assert.match((await time.getAttribute('title')) ?? '', /\d/);
    assert.ok(await time.getAttribute('datetime'));
    // B's button names its device briefly; A's own says it is this device.
    await a.getByRole('button', { name: 'Sign out Chrome on Linux (this device)' }).waitFor();
    await a.getByRole('button', { name: 'Sign out Chrome on Linux', exact: true }).click();
    await a.getByRole('heading', { name: 'Sessions (1)' }).waitFor();

    await b.reload();
    const reason = b.getByTestId('signed-out-reason');
    await reason.waitFor();
    assert.equal(
      await reason.textContent(),
      'You were signed out because this session was ended from another device.',
    );
    await b.getByRole('heading', { name: 'Sign in' }).waitFor();
  });

  it('counts an account lockout down with the button disabled', async () => {
    const email = await newUser();
    const page = await newPage();
    for (let i = 0; i < 3; i++) {
      await signIn(page, email, `wrong password ${i}`);
      await page.getByText('Incorrect email or password.').first().waitFor();
    }
    await signIn(page, email, 'wrong password again');
    const locked = page.getByText(
      /^Too many failed attempts for this account; try again in \d+ s\.$/,
    );
    await locked.first().waitFor();
    assert.ok(await page.getByRole('button', { name: 'Sign in', exact: true }).isDisabled());
  });

  it('shows and hides the password with a toggle button, and the policy as you type', async () => {
    const page = await newPage();
    await page.goto(`${suite.url}/#/signup`);
    const password = page.getByLabel('Password', { exact: true });
    const toggle = page.getByRole('button', { name: 'Show password' });
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
    await password.fill('short');
    await page.getByText(/3 more to go/).waitFor();
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
    assert.equal(await password.getAttribute('type'), 'text');
    await password.fill('long enough now');
    await page.getByText(/Length OK/).waitFor();
    await toggle.click();
    assert.equal(await password.getAttribute('type'), 'password');

    // A bad email: the server's words, at the field.
    // 'name@example' passes the browser's own check, not the server's (no dotted domain).
    await page.getByLabel('Email').fill('name@example');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('Enter an email address like name@example.com').first().waitFor();
  });

  it('keeps the session on a reload past the refresh budget and says it is retrying', async () => {
    const email = await newUser();
    const page = await newPage();
    await signIn(page, email);
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    // The refresh budget is 8 a minute for this address (the earlier tests spent some); last,
    // since it leaves the budget spent.
    let retrying = false;
    for (let i = 0; i < 9 && !retrying; i++) {
      await page.reload();
      const state = await Promise.race([
        page
          .getByRole('heading', { name: 'Your account' })
          .waitFor()
          .then(() => 'account'),
        page
          .getByTestId('session-retry')
          .waitFor()
          .then(() => 'retry'),
      ]);
      retrying = state === 'retry';
    }
    assert.ok(retrying, 'the refresh budget was reached');
    const text = (await page.getByTestId('session-retry').textContent()) ?? '';
    assert.match(text, /not been signed out/);
    assert.match(text, /Retrying in \d+ s/);
    assert.equal(await page.getByRole('heading', { name: 'Sign in' }).count(), 0);
  });
});
