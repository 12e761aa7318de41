import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { passwordLogin, STRONG_PASSWORD, uniqueEmail, requestAs } from '../support/client.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

const UNAVAILABLE = {
  detail: 'Mail delivery is not configured on this server (GATEHOUSE_SMTP_URL is not set)',
  code: 'mail_unavailable',
};

describe('mail flows in production without SMTP (API.md 8)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { GATEHOUSE_ENV: 'production' } });
  });
  after(() => t?.close());

  it('answers 503 on every endpoint that sends mail, known address or not', async () => {
    const email = uniqueEmail('prod');
    await t.services.registerUser({ email, password: STRONG_PASSWORD });
    const { accessToken } = await passwordLogin(t.app, email);
    const answers = await Promise.all([
      t.app.inject({ method: 'POST', url: '/password-reset', payload: { email } }),
      t.app.inject({
        method: 'POST',
        url: '/password-reset',
        payload: { email: uniqueEmail('nobody') },
      }),
      requestAs(t.app, accessToken, 'POST', '/users/me/verify-email'),
      requestAs(t.app, accessToken, 'POST', '/users/me/email', {
        new_email: uniqueEmail('new'),
        current_password: STRONG_PASSWORD,
      }),
    ]);
    for (const answer of answers) {
      assert.equal(answer.statusCode, 503, answer.body);
      assert.deepEqual(answer.json(), UNAVAILABLE);
    }
    const kinds = (await t.storage.mailOutbox.list({ limit: 10 })).map((m) => m.kind);
    assert.deepEqual(kinds, ['verify_email'], 'only the registration was queued');
  });
});
