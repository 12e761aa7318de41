import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ADMIN, browserSuite, signInToAccount } from '../support/browser-suite.ts';
import { browserSkip, screenshot } from './browser.ts';

describe('web UI: API clients in a real browser', { skip: browserSkip }, () => {
  const suite = browserSuite('clients', { admin: true });

  /** POST /introspect of the admin's own token with these client credentials; the status. */
  async function introspectStatus(clientId: string, secret: string): Promise<number> {
    const login = await fetch(`${suite.url}/token`, {
      method: 'POST',
      body: new URLSearchParams({ username: ADMIN.email, password: ADMIN.password }),
    });
    const { access_token: token } = (await login.json()) as { access_token: string };
    const response = await fetch(`${suite.url}/introspect`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token }),
    });
    return response.status;
  }

  it('an admin creates a client, sees its secret once, and deletes it', async () => {
    const page = await suite.newPage();
    try {
      await signInToAccount(page, suite.url, ADMIN.email, ADMIN.password);
      await page.getByRole('link', { name: 'API clients' }).click();
      await page.getByTestId('clients').waitFor();
      await page.getByText('No API clients yet.').waitFor();

      // A blank name is the server's 422, shown at the field.
      await page.getByLabel('Name', { exact: true }).fill('   ');
      await page.getByRole('button', { name: 'Create' }).click();
      await page.getByText(/Name must be 1 to 100 characters/).waitFor();
      assert.equal(
        await page.getByLabel('Name', { exact: true }).getAttribute('aria-invalid'),
        'true',
      );

      await page.getByLabel('Name', { exact: true }).fill('billing-api');
      await page.getByRole('button', { name: 'Create' }).click();
      const notice = page.getByTestId('secret');
      await notice.getByText('it will not be shown again').waitFor();
      const clientId = await page.getByLabel('Client ID').inputValue();
      const secret = await page.getByLabel('Client secret').inputValue();
      assert.match(clientId, /^gh_/);
      assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
      const row = page.getByRole('row').filter({ hasText: 'billing-api' });
      await row.getByText(clientId).waitFor();
      await screenshot(page, 'admin-clients');
      assert.equal(await introspectStatus(clientId, secret), 200);

      // Shown once: a reload draws the list without it.
      await page.reload();
      await page.getByTestId('clients').waitFor();
      await row.waitFor();
      assert.equal(await page.getByTestId('secret').count(), 0);
      assert.equal((await page.content()).includes(secret), false);

      await row.getByRole('button', { name: 'Delete' }).click();
      await page.getByRole('button', { name: 'Confirm delete billing-api' }).click();
      await page.getByText('API client billing-api deleted.').waitFor();
      await page.getByText('No API clients yet.').waitFor();
      assert.equal(await introspectStatus(clientId, secret), 401);
      assert.deepEqual(suite.foreign, []);
    } finally {
      await page.context().close();
    }
  });
});
