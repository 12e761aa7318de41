import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createUser, listSessions, requestAs, logout } from '../support/client.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { passwordLogin, refresh } from '../support/sessions.ts';
import { registerAndLogin, STRONG_PASSWORD, testAppPerSuite } from '../support/test-app.ts';

// A signed-out device is told why. The refresh grant's failure stays 400
// `invalid_grant` (API.md 2, RFC 6749 5.2); its detail names the reason, never who or where.

const NEW_PASSWORD = 'a different long passphrase';

for (const backend of STORAGE_BACKENDS) {
  describe(`why a session ended, on ${backend.name}`, { skip: backend.skip }, () => {
    const suite = testAppPerSuite(backend);

    async function assertEndedBecause(refreshToken: string, detail: string): Promise<void> {
      const response = await refresh(suite.t.app, refreshToken);
      assert.equal(response.statusCode, 400, response.body);
      const body = response.json();
      assert.equal(body.error, 'invalid_grant');
      assert.equal(body.code, 'invalid_grant');
      assert.equal(body.detail, detail);
      assert.equal(body.error_description, detail);
    }

    it('says the password was changed, to every other session', async () => {
      const { email } = await registerAndLogin(suite.t.app);
      const a = await passwordLogin(suite.t.app, email);
      const b = await passwordLogin(suite.t.app, email);
      const change = await requestAs(suite.t.app, a.accessToken, 'PUT', '/users/me/password', {
        current_password: STRONG_PASSWORD,
        new_password: NEW_PASSWORD,
      });
      assert.equal(change.statusCode, 204);
      await assertEndedBecause(
        b.refreshToken,
        'You were signed out because your password was changed',
      );
      assert.equal((await refresh(suite.t.app, a.refreshToken)).statusCode, 200);
    });

    it('says the session was ended from another device, or that you signed out', async () => {
      const { email } = await registerAndLogin(suite.t.app);
      const a = await passwordLogin(suite.t.app, email);
      const b = await passwordLogin(suite.t.app, email);
      const ended = await requestAs(
        suite.t.app,
        a.accessToken,
        'DELETE',
        `/users/me/sessions/${b.sid}`,
      );
      assert.equal(ended.statusCode, 204);
      await assertEndedBecause(
        b.refreshToken,
        'You were signed out because this session was ended from another device',
      );
      const loggedOut = await logout(suite.t.app, a.accessToken);
      assert.equal(loggedOut.statusCode, 204);
      await assertEndedBecause(a.refreshToken, 'You signed out of this session');
    });

    it('says an administrator changed the account', async () => {
      const admin = await createUser(suite.t, 'admin');
      const user = await createUser(suite.t);
      const disable = await requestAs(
        suite.t.app,
        admin.accessToken,
        'PATCH',
        `/users/${user.user.id}`,
        { disabled: true },
      );
      assert.equal(disable.statusCode, 200);
      await assertEndedBecause(
        user.refreshToken,
        'You were signed out because an administrator changed your account',
      );
    });

    it('lists each session with a readable device beside its user_agent', async () => {
      const { email } = await registerAndLogin(suite.t.app);
      const chrome =
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
      const a = await passwordLogin(suite.t.app, email, STRONG_PASSWORD, { 'user-agent': chrome });
      await passwordLogin(suite.t.app, email, STRONG_PASSWORD, { 'user-agent': 'curl/8.4.0' });
      const list = await listSessions(suite.t.app, a.accessToken);
      const items = list.json().items as { user_agent: string; device: string; current: boolean }[];
      const current = items.find((item) => item.current);
      assert.equal(current?.device, 'Chrome on Linux');
      assert.equal(current?.user_agent, chrome);
      assert.ok(items.some((item) => item.device === 'curl' && item.user_agent === 'curl/8.4.0'));
    });

    it('keeps the plain message for an unknown token', async () => {
      await assertEndedBecause('no-such-token', 'Invalid or expired refresh token');
    });
  });
}
