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

for (const backend of STORAGE_BACKENDS) {
  describe(`email change (API.md 8) on ${backend.name}`, { skip: backend.skip }, () => {
    const suite = testAppPerSuite(backend, { GATEHOUSE_PUBLIC_URL: PUBLIC_URL });

    const change = (accessToken: string, body: Record<string, unknown>, url = '/users/me/email') =>
      suite.t.app.inject({ method: 'POST', url, headers: bearer(accessToken), payload: body });
    const follow = (token: string) =>
      suite.t.app.inject({ method: 'POST', url: '/verify-email', payload: { token } });

    async function signedIn(): Promise<{ email: string; accessToken: string }> {
      const email = uniqueEmail('mover');
      await suite.t.services.registerUser({ email, password: STRONG_PASSWORD });
      return { email, accessToken: (await passwordLogin(suite.t.app, email)).accessToken };
    }

    it('confirms through the new address, tells the old one, and moves the account', async () => {
      const { email, accessToken } = await signedIn();
      const next = uniqueEmail('Moved');
      const answer = await change(
        accessToken,
        { new_email: next, current_password: STRONG_PASSWORD },
        '/users/me/email/',
      );
      assert.equal(answer.statusCode, 202, answer.body);
      const [notice] = await queuedMail(suite.t.storage, email, 'email_change_notice');
      assert.ok(notice, 'the old address is told');
      assert.ok(notice.text?.includes(next));
      assert.doesNotMatch(notice.text ?? '', /token=/, 'no link that changes anything');
      // Nothing changes before the link is used.
      assert.equal((await me(suite.t.app, accessToken)).json().email, email);
      const { token, link } = await linkFrom(suite.t.storage, next, 'email_change_confirm');
      assert.ok(link.startsWith(`${PUBLIC_URL}/#/verify-email?token=`));
      assert.equal((await follow(token)).statusCode, 204);
      const now = (await me(suite.t.app, accessToken)).json();
      assert.equal(now.email, next);
      assert.equal(now.email_verified, true);
      assert.equal((await requestToken(suite.t.app, { username: next })).statusCode, 200);
      assert.equal((await requestToken(suite.t.app, { username: email })).statusCode, 401);
      const reuse = await follow(token);
      assert.equal(reuse.statusCode, 400);
      assert.equal(reuse.json().code, 'invalid_token');
    });

    it('requires the current password (400 "Incorrect password") and a valid new address (422)', async () => {
      const { email, accessToken } = await signedIn();
      const wrong = await change(accessToken, {
        new_email: uniqueEmail('x'),
        current_password: 'not my password',
      });
      assert.equal(wrong.statusCode, 400);
      assert.deepEqual(wrong.json(), { detail: 'Incorrect password', code: 'incorrect_password' });
      const invalid = await change(accessToken, {
        new_email: 'not an address',
        current_password: STRONG_PASSWORD,
      });
      assert.equal(invalid.statusCode, 422);
      assert.deepEqual(invalid.json().detail[0].loc, ['body', 'new_email']);
      const same = await change(accessToken, {
        new_email: email.toUpperCase(),
        current_password: STRONG_PASSWORD,
      });
      assert.equal(same.statusCode, 422);
      const missing = await change(accessToken, { new_email: uniqueEmail('y') });
      assert.equal(missing.statusCode, 422);
      assert.deepEqual(await queuedMail(suite.t.storage, email, 'email_change_notice'), []);
      const anonymous = await suite.t.app.inject({
        method: 'POST',
        url: '/users/me/email',
        payload: { new_email: uniqueEmail('z'), current_password: STRONG_PASSWORD },
      });
      assert.equal(anonymous.statusCode, 401);
    });

    it('answers a taken address 400 at once, and again at confirmation if it was taken since', async () => {
      const { email, accessToken } = await signedIn();
      const taken = uniqueEmail('taken');
      await suite.t.services.registerUser({ email: taken, password: STRONG_PASSWORD });
      const early = await change(accessToken, {
        new_email: taken.toUpperCase(),
        current_password: STRONG_PASSWORD,
      });
      assert.equal(early.statusCode, 400);
      assert.equal(early.json().detail, 'Email already registered');

      const wanted = uniqueEmail('wanted');
      assert.equal(
        (await change(accessToken, { new_email: wanted, current_password: STRONG_PASSWORD }))
          .statusCode,
        202,
      );
      const { token } = await linkFrom(suite.t.storage, wanted, 'email_change_confirm');
      // Someone registers the address between the request and the confirmation.
      await suite.t.services.registerUser({ email: wanted, password: STRONG_PASSWORD });
      const late = await follow(token);
      assert.equal(late.statusCode, 400);
      assert.deepEqual(late.json(), { detail: 'Email already registered', code: 'email_taken' });
      assert.equal((await me(suite.t.app, accessToken)).json().email, email, 'nothing changed');
    });

    it('gives a contested address to exactly one of two users confirming at once', async () => {
      const a = await signedIn();
      const b = await signedIn();
      const contested = uniqueEmail('contested');
      for (const user of [a, b]) {
        const answer = await change(user.accessToken, {
          new_email: contested,
          current_password: STRONG_PASSWORD,
        });
        assert.equal(answer.statusCode, 202);
      }
      const messages = await queuedMail(suite.t.storage, contested, 'email_change_confirm');
      assert.equal(messages.length, 2);
      const tokens = messages.map((m) => /token=([A-Za-z0-9_-]+)/.exec(m.text ?? '')![1]!);
      const answers = await Promise.all(tokens.map((token) => follow(token)));
      assert.deepEqual(answers.map((r) => r.statusCode).sort(), [204, 400]);
      const emails = [
        (await me(suite.t.app, a.accessToken)).json().email,
        (await me(suite.t.app, b.accessToken)).json().email,
      ];
      assert.equal(emails.filter((e) => e === contested).length, 1);
    });

    it('audits the request and the change', async () => {
      const { email, accessToken } = await signedIn();
      const next = uniqueEmail('audited');
      await change(accessToken, { new_email: next, current_password: STRONG_PASSWORD });
      const { token } = await linkFrom(suite.t.storage, next, 'email_change_confirm');
      await follow(token);
      const { items } = await suite.t.services.listAuditEvents({}, { limit: 50 });
      const types = items.filter((e) => e.email === email || e.email === next).map((e) => e.type);
      assert.ok(types.includes('email.change_requested'));
      assert.ok(types.includes('email.changed'));
      assert.doesNotMatch(JSON.stringify(items), new RegExp(token));
    });
  });
}
