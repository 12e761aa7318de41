import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  requestToken,
  STRONG_PASSWORD,
  type TokenPair,
  toPair,
  uniqueEmail,
  confirmPasswordReset,
} from '../support/client.ts';
import { linkFrom } from '../support/outbox-mail.ts';
import { LOGIN_BURST_ENV, liveSessions, whileInFlight } from '../support/races.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { testAppPerSuite } from '../support/test-app.ts';

// API.md 8 / ASVS 3.3.3: a reset ends every session, and, as with a password change
// (password-change-races.test.ts), no session opened by a login with the old password that was
// in flight during the reset survives it.

const NEW_PASSWORD = 'a reset chosen passphrase';

for (const backend of STORAGE_BACKENDS) {
  describe(`password reset racing logins on ${backend.name}`, { skip: backend.skip }, () => {
    const suite = testAppPerSuite(backend, {
      ...LOGIN_BURST_ENV,
      GATEHOUSE_RATE_LIMIT_PASSWORD_RESET: '0',
      GATEHOUSE_RATE_LIMIT_PASSWORD_RESET_ADDRESS: '0',
    });

    const login = (email: string, password: string) =>
      requestToken(suite.t.app, { username: email, password });

    it('ends every session opened with the old password, logins in flight included', async () => {
      const email = uniqueEmail('reset-race');
      await suite.t.services.registerUser({ email, password: STRONG_PASSWORD });
      const before = toPair((await login(email, STRONG_PASSWORD)).json());
      const asked = await suite.t.app.inject({
        method: 'POST',
        url: '/password-reset',
        payload: { email },
      });
      assert.equal(asked.statusCode, 202);
      const { token } = await linkFrom(suite.t.storage, email, 'password_reset');

      const { action: done, answers } = await whileInFlight(
        () => confirmPasswordReset(suite.t.app, token, NEW_PASSWORD),
        () => login(email, STRONG_PASSWORD),
      );
      assert.equal(done.statusCode, 204, done.body);

      assert.equal((await login(email, STRONG_PASSWORD)).statusCode, 401, 'old password');
      assert.equal((await login(email, NEW_PASSWORD)).statusCode, 200, 'new password');
      const granted: TokenPair[] = [before];
      for (const answer of answers) {
        assert.ok([200, 401].includes(answer.statusCode), `${answer.statusCode} ${answer.body}`);
        if (answer.statusCode === 200) granted.push(toPair(answer.json()));
      }
      assert.deepEqual(
        await liveSessions(suite.t.app, granted),
        { accessTokens: 0, refreshTokens: 0 },
        `of ${granted.length} sessions opened with the old password`,
      );
    });
  });
}
