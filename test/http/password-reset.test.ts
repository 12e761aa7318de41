import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashMailToken } from '../../src/domain/email/mail-token.ts';
import {
  me,
  passwordLogin,
  refresh,
  requestToken,
  STRONG_PASSWORD,
  uniqueEmail,
  postForm,
} from '../support/client.ts';
import { linkFrom, queuedMail } from '../support/outbox-mail.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { testAppPerSuite } from '../support/test-app.ts';

const PUBLIC_URL = 'https://id.example.com';
const NEW_PASSWORD = 'a freshly chosen passphrase';
const RESET_BODY = { detail: 'If the address is registered, a reset link has been sent' };
const INVALID = { detail: 'Invalid or expired token', code: 'invalid_token' };

for (const backend of STORAGE_BACKENDS) {
  describe(`password reset (API.md 8) on ${backend.name}`, { skip: backend.skip }, () => {
    const suite = testAppPerSuite(backend, {
      GATEHOUSE_PUBLIC_URL: PUBLIC_URL,
      GATEHOUSE_RATE_LIMIT_PASSWORD_RESET: '0',
      GATEHOUSE_RATE_LIMIT_PASSWORD_RESET_ADDRESS: '0',
    });

    const askReset = (email: string, url = '/password-reset') =>
      suite.t.app.inject({ method: 'POST', url, payload: { email } });
    const confirm = (token: string, password = NEW_PASSWORD) =>
      suite.t.app.inject({
        method: 'POST',
        url: '/password-reset/confirm',
        payload: { token, new_password: password },
      });
    const canLogIn = async (email: string, password: string) =>
      (await requestToken(suite.t.app, { username: email, password })).statusCode === 200;

    async function newUser(prefix = 'reset'): Promise<string> {
      const email = uniqueEmail(prefix);
      await suite.t.services.registerUser({ email, password: STRONG_PASSWORD });
      return email;
    }

    async function resetLink(email: string) {
      const answer = await askReset(email);
      assert.equal(answer.statusCode, 202, answer.body);
      return linkFrom(suite.t.storage, email, 'password_reset');
    }

    it('mails an absolute link to the reset page; following it sets the password', async () => {
      const email = await newUser();
      const answer = await askReset(email);
      assert.equal(answer.statusCode, 202);
      assert.deepEqual(answer.json(), RESET_BODY);
      const { link, token, message } = await linkFrom(suite.t.storage, email, 'password_reset');
      assert.ok(link.startsWith(`${PUBLIC_URL}/#/reset-password?token=`), link);
      assert.equal(Buffer.from(token, 'base64url').length, 32, '256 bits');
      assert.equal(message.subject, 'Reset your password');
      // Only the SHA-256 of the token is stored.
      const now = suite.clock.now();
      assert.equal(
        await suite.t.storage.mailTokens.findLive(token, 'password_reset', now),
        undefined,
      );
      assert.ok(
        await suite.t.storage.mailTokens.findLive(hashMailToken(token), 'password_reset', now),
      );

      const done = await confirm(token);
      assert.equal(done.statusCode, 204, done.body);
      assert.equal(await canLogIn(email, STRONG_PASSWORD), false);
      assert.equal(await canLogIn(email, NEW_PASSWORD), true);
      const [notice] = await queuedMail(suite.t.storage, email, 'password_changed');
      assert.ok(notice, 'a notice goes to the user after a reset');
      assert.match(notice.text ?? '', /every session was signed out/);
    });

    it('answers an unknown address exactly like a registered one, and sends nothing', async () => {
      const email = await newUser();
      const known = await askReset(email);
      const unknownEmail = uniqueEmail('nobody');
      const unknown = await askReset(unknownEmail);
      assert.equal(unknown.statusCode, known.statusCode);
      assert.equal(unknown.body, known.body);
      const names = (r: typeof known) =>
        Object.keys(r.headers)
          .filter((h) => !['date', 'content-length'].includes(h))
          .sort();
      assert.deepEqual(names(unknown), names(known));
      assert.equal(unknown.headers['content-length'], known.headers['content-length']);
      assert.deepEqual(await queuedMail(suite.t.storage, unknownEmail), []);
      // Malformed addresses too: nothing to tell apart.
      const notAnAddress = await askReset('not an address');
      assert.equal(notAnAddress.statusCode, 202);
      assert.deepEqual(notAnAddress.json(), RESET_BODY);
    });

    it('accepts the paths with a trailing slash and answers malformed bodies 422', async () => {
      const email = await newUser();
      assert.equal((await askReset(email, '/password-reset/')).statusCode, 202);
      const missing = await suite.t.app.inject({
        method: 'POST',
        url: '/password-reset',
        payload: {},
      });
      assert.equal(missing.statusCode, 422);
      assert.deepEqual(missing.json().detail[0].loc, ['body', 'email']);
      const form = await postForm(
        suite.t.app,
        '/password-reset/confirm/',
        'token=x&new_password=y',
      );
      assert.equal(form.statusCode, 422);
      const noPassword = await suite.t.app.inject({
        method: 'POST',
        url: '/password-reset/confirm',
        payload: { token: 'x' },
      });
      assert.equal(noPassword.statusCode, 422);
    });

    it('ends every session of the user on reset', async () => {
      const email = await newUser();
      const a = await passwordLogin(suite.t.app, email);
      const b = await passwordLogin(suite.t.app, email);
      const { token } = await resetLink(email);
      assert.equal((await confirm(token)).statusCode, 204);
      for (const pair of [a, b]) {
        assert.equal((await me(suite.t.app, pair.accessToken)).statusCode, 401);
        assert.equal((await refresh(suite.t.app, pair.refreshToken)).statusCode, 400);
      }
    });

    it('applies the password policy (422) and keeps the token usable', async () => {
      const email = await newUser();
      const { token } = await resetLink(email);
      const weak = await confirm(token, 'password');
      assert.equal(weak.statusCode, 422);
      assert.deepEqual(weak.json().detail[0].loc, ['body', 'new_password']);
      assert.equal(await canLogIn(email, STRONG_PASSWORD), true);
      assert.equal((await confirm(token)).statusCode, 204);
    });

    describe('token abuse: each answer 400 invalid_token, and nothing changes', () => {
      async function assertRefused(email: string, token: string, password = NEW_PASSWORD) {
        const answer = await confirm(token, password);
        assert.equal(answer.statusCode, 400, answer.body);
        assert.deepEqual(answer.json(), INVALID);
        return answer;
      }

      it('refuses a token used once already', async () => {
        const email = await newUser();
        const { token } = await resetLink(email);
        assert.equal((await confirm(token)).statusCode, 204);
        await assertRefused(email, token, 'yet another passphrase');
        assert.equal(await canLogIn(email, NEW_PASSWORD), true);
      });

      it('refuses an expired token (GATEHOUSE_RESET_TOKEN_TTL, default 1800 s)', async () => {
        const email = await newUser();
        const { token } = await resetLink(email);
        suite.clock.advance(1801);
        await assertRefused(email, token);
        assert.equal(await canLogIn(email, STRONG_PASSWORD), true);
      });

      it('refuses a link asked for before the user changed the password', async () => {
        const email = await newUser();
        const { token } = await resetLink(email);
        const login = await passwordLogin(suite.t.app, email, STRONG_PASSWORD);
        const changed = await suite.t.app.inject({
          method: 'PUT',
          url: '/users/me/password',
          headers: { authorization: `Bearer ${login.accessToken}` },
          payload: { current_password: STRONG_PASSWORD, new_password: 'changed in the meantime' },
        });
        assert.equal(changed.statusCode, 204, changed.body);
        await assertRefused(email, token);
        assert.equal(await canLogIn(email, 'changed in the meantime'), true);
      });

      it('refuses the token of an older request once a newer one was made', async () => {
        const email = await newUser();
        const older = await resetLink(email);
        const newer = await resetLink(email);
        assert.notEqual(older.token, newer.token);
        await assertRefused(email, older.token);
        assert.equal(await canLogIn(email, STRONG_PASSWORD), true);
        assert.equal((await confirm(newer.token)).statusCode, 204);
      });

      it('refuses unknown, malformed and other-purpose tokens; another user’s token changes only theirs', async () => {
        const email = await newUser();
        const other = await newUser();
        for (const token of ['', 'x', 'A'.repeat(43), 'A'.repeat(5000), '../../etc']) {
          await assertRefused(email, token);
        }
        const { token: verifyToken } = await linkFrom(suite.t.storage, email, 'verify_email');
        await assertRefused(email, verifyToken);
        assert.equal(await canLogIn(email, STRONG_PASSWORD), true);
        const { token: theirs } = await resetLink(other);
        assert.equal((await confirm(theirs)).statusCode, 204);
        assert.equal(await canLogIn(email, STRONG_PASSWORD), true, 'mine is untouched');
        assert.equal(await canLogIn(other, NEW_PASSWORD), true);
      });

      it('lets exactly one of two concurrent confirms of one token succeed', async () => {
        const email = await newUser();
        const { token } = await resetLink(email);
        const answers = await Promise.all([
          confirm(token, 'first racing passphrase'),
          confirm(token, 'second racing passphrase'),
        ]);
        const statuses = answers.map((a) => a.statusCode).sort();
        assert.deepEqual(statuses, [204, 400], answers.map((a) => a.body).join(' '));
        const winner = answers.findIndex((a) => a.statusCode === 204);
        const passwords = ['first racing passphrase', 'second racing passphrase'];
        assert.equal(await canLogIn(email, passwords[winner]!), true);
        assert.equal(await canLogIn(email, passwords[1 - winner]!), false);
      });

      it('refuses a reset racing a second reset request (the older token is void)', async () => {
        const email = await newUser();
        const first = await resetLink(email);
        const [answer] = await Promise.all([confirm(first.token), askReset(email)]);
        const second = await linkFrom(suite.t.storage, email, 'password_reset');
        if (answer.statusCode === 204) {
          // The confirm won: the newer link still works (it was issued for the new password).
          assert.equal(await canLogIn(email, NEW_PASSWORD), true);
        } else {
          assert.deepEqual(answer.json(), INVALID);
          assert.equal(await canLogIn(email, STRONG_PASSWORD), true);
        }
        assert.notEqual(second.token, first.token);
        await assertRefused(email, first.token);
      });
    });

    it('unlocks a login throttled by failed attempts once the owner resets', async () => {
      const email = await newUser();
      for (let i = 0; i < 5; i += 1) {
        await requestToken(suite.t.app, { username: email, password: 'wrong guess' });
      }
      assert.equal((await requestToken(suite.t.app, { username: email })).statusCode, 429);
      const { token } = await resetLink(email);
      assert.equal((await confirm(token)).statusCode, 204);
      assert.equal(await canLogIn(email, NEW_PASSWORD), true);
    });

    it('audits every step without the token', async () => {
      const email = await newUser();
      const { token } = await resetLink(email);
      await askReset(uniqueEmail('ghost'));
      assert.equal((await confirm(token)).statusCode, 204);
      const admin = await suite.t.services.listAuditEvents({}, { limit: 100 });
      const types = admin.items.map((e) => e.type);
      assert.ok(types.includes('password.reset_requested'));
      assert.ok(types.includes('password.reset'));
      const mine = admin.items.filter((e) => e.email === email);
      assert.ok(mine.some((e) => e.type === 'password.reset'));
      assert.doesNotMatch(JSON.stringify(admin.items), new RegExp(token));
    });
  });
}
