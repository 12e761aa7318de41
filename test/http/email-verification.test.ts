import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bearer,
  me,
  passwordLogin,
  requestToken,
  STRONG_PASSWORD,
  uniqueEmail,
} from '../support/client.ts';
import { linkFrom, queuedMail } from '../support/outbox-mail.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { testAppPerSuite } from '../support/test-app.ts';

const PUBLIC_URL = 'https://id.example.com';
const INVALID = { detail: 'Invalid or expired token', code: 'invalid_token' };

for (const backend of STORAGE_BACKENDS) {
  describe(`email verification (API.md 8) on ${backend.name}`, { skip: backend.skip }, () => {
    const suite = testAppPerSuite(backend, { GATEHOUSE_PUBLIC_URL: PUBLIC_URL });

    const verify = (token: unknown, url = '/verify-email') =>
      suite.t.app.inject({ method: 'POST', url, payload: { token } });
    const resend = (accessToken: string, url = '/users/me/verify-email') =>
      suite.t.app.inject({ method: 'POST', url, headers: bearer(accessToken) });

    async function register(): Promise<string> {
      const email = uniqueEmail('verify');
      const answer = await suite.t.app.inject({
        method: 'POST',
        url: '/users/',
        payload: { email, password: STRONG_PASSWORD },
      });
      assert.equal(answer.statusCode, 200, answer.body);
      assert.equal(answer.json().email_verified, false);
      return email;
    }

    it('sends a link at registration; following it verifies the address once', async () => {
      const email = await register();
      const { link, token, message } = await linkFrom(suite.t.storage, email, 'verify_email');
      assert.ok(link.startsWith(`${PUBLIC_URL}/#/verify-email?token=`), link);
      assert.equal(message.subject, 'Confirm your email address');
      const done = await verify(token);
      assert.equal(done.statusCode, 204, done.body);
      const { accessToken } = await passwordLogin(suite.t.app, email);
      assert.equal((await me(suite.t.app, accessToken)).json().email_verified, true);
      const again = await verify(token, '/verify-email/');
      assert.equal(again.statusCode, 400);
      assert.deepEqual(again.json(), INVALID);
    });

    it('resends a link that voids the older one; a verified address gets nothing', async () => {
      const email = await register();
      const first = await linkFrom(suite.t.storage, email, 'verify_email');
      const { accessToken } = await passwordLogin(suite.t.app, email);
      const answer = await resend(accessToken, '/users/me/verify-email/');
      assert.equal(answer.statusCode, 202, answer.body);
      const second = await linkFrom(suite.t.storage, email, 'verify_email');
      assert.notEqual(second.token, first.token);
      assert.deepEqual((await verify(first.token)).json(), INVALID);
      assert.equal((await verify(second.token)).statusCode, 204);
      const count = (await queuedMail(suite.t.storage, email, 'verify_email')).length;
      assert.equal((await resend(accessToken)).statusCode, 202);
      assert.equal((await queuedMail(suite.t.storage, email, 'verify_email')).length, count);
    });

    it('refuses expired, unknown and malformed tokens (400) and bad bodies (422)', async () => {
      const email = await register();
      const { token } = await linkFrom(suite.t.storage, email, 'verify_email');
      suite.clock.advance(86_401);
      assert.deepEqual((await verify(token)).json(), INVALID);
      for (const bad of ['', 'nope', 'B'.repeat(43)]) {
        const answer = await verify(bad);
        assert.equal(answer.statusCode, 400);
        assert.deepEqual(answer.json(), INVALID);
      }
      assert.equal((await verify(42)).statusCode, 422);
      const empty = await suite.t.app.inject({ method: 'POST', url: '/verify-email', payload: {} });
      assert.equal(empty.statusCode, 422);
      const { accessToken } = await passwordLogin(suite.t.app, email);
      assert.equal((await me(suite.t.app, accessToken)).json().email_verified, false);
    });

    it('needs a signed-in user to resend (401)', async () => {
      const answer = await suite.t.app.inject({ method: 'POST', url: '/users/me/verify-email' });
      assert.equal(answer.statusCode, 401);
      assert.equal(answer.json().detail, 'Not authenticated');
    });

    it('audits the request and the verification', async () => {
      const email = await register();
      const { token } = await linkFrom(suite.t.storage, email, 'verify_email');
      const { accessToken } = await passwordLogin(suite.t.app, email);
      await resend(accessToken);
      const { token: newer } = await linkFrom(suite.t.storage, email, 'verify_email');
      assert.notEqual(newer, token);
      await verify(newer);
      const { items } = await suite.t.services.listAuditEvents({}, { limit: 50 });
      const mine = items.filter((e) => e.email === email).map((e) => e.type);
      assert.ok(mine.includes('email.verification_requested'), mine.join());
      assert.ok(mine.includes('email.verified'), mine.join());
    });
  });

  describe(`GATEHOUSE_REQUIRE_VERIFIED_EMAIL on ${backend.name}`, { skip: backend.skip }, () => {
    const suite = testAppPerSuite(backend, { GATEHOUSE_REQUIRE_VERIFIED_EMAIL: 'true' });

    it('refuses the password grant of an unverified user with 403, then grants once verified', async () => {
      const email = uniqueEmail('strict');
      await suite.t.services.registerUser({ email, password: STRONG_PASSWORD });
      const refused = await requestToken(suite.t.app, { username: email });
      assert.equal(refused.statusCode, 403);
      assert.equal(refused.json().detail, 'Email not verified');
      assert.equal(refused.json().code, 'email_not_verified');
      assert.equal(refused.json().error, 'invalid_grant');
      // A wrong password still says nothing about verification.
      const wrong = await requestToken(suite.t.app, { username: email, password: 'wrong one' });
      assert.equal(wrong.statusCode, 401);
      const { token } = await linkFrom(suite.t.storage, email, 'verify_email');
      const done = await suite.t.app.inject({
        method: 'POST',
        url: '/verify-email',
        payload: { token },
      });
      assert.equal(done.statusCode, 204);
      assert.equal((await requestToken(suite.t.app, { username: email })).statusCode, 200);
    });
  });
}
