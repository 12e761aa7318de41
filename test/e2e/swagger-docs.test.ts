import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { STRONG_PASSWORD } from '../support/client.ts';
import { freePort } from '../support/free-port.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { browserSkip, launchBrowser, screenshot } from './browser.ts';

describe('Swagger UI at /docs', { skip: browserSkip }, () => {
  let t: TestApp & { url: string };
  let browser: Browser;
  before(async () => {
    // The document's `servers` (docs/openapi.md) is where Swagger UI sends its requests: the
    // public URL, else the configured port. A server on a random port must say where it is.
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    const app = await createTestApp({ env: { GATEHOUSE_PUBLIC_URL: publicUrl } });
    await app.app.listen({ host: '127.0.0.1', port });
    t = { ...app, url: publicUrl };
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('logs in through POST /token with its Authorize button (OAuth2 password flow)', async () => {
    const email = 'docs@example.com';
    await t.app.inject({
      method: 'POST',
      url: '/users/',
      payload: { email, password: STRONG_PASSWORD },
    });
    const page = await browser.newPage();
    await page.goto(`${t.url}/docs`);
    await page
      .getByRole('button', { name: /Authorize/ })
      .first()
      .click();
    await page.locator('#oauth_username').fill(email);
    await page.locator('#oauth_password').fill(STRONG_PASSWORD);
    const [token] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      // The OAuth2 form's button; the dialog also offers HTTP Basic for POST /introspect.
      page.getByRole('button', { name: 'Apply given OAuth2 credentials' }).click(),
    ]);
    assert.equal(new URL(token.url()).pathname, '/token');
    assert.equal(token.status(), 200);
    await page.getByText('Authorized').first().waitFor();
    await screenshot(page, 'docs-authorized');
    await page.close();
  });
});
