import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import {
  me,
  refresh,
  requestToken,
  STRONG_PASSWORD,
  type TokenPair,
  toPair,
  uniqueEmail,
} from '../support/client.ts';
import { linkFrom } from '../support/outbox-mail.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { testAppPerSuite } from '../support/test-app.ts';

// API.md 8 / ASVS 3.3.3: a reset ends every session, and, as with a password change
// (password-change-races.test.ts), no session opened by a login with the old password that was
// in flight during the reset survives it.

const NEW_PASSWORD = 'a reset chosen passphrase';
const MAX_LOGINS = 60;
const LOGIN_SPACING_MS = 2;

for (const backend of STORAGE_BACKENDS) {
  describe(`password reset racing logins on ${backend.name}`, { skip: backend.skip }, () => {
    const suite = testAppPerSuite(backend, {
      GATEHOUSE_LOGIN_FAILURES_BEFORE_LOCK: '1000',
      GATEHOUSE_RATE_LIMIT_PASSWORD_RESET: '0',
      GATEHOUSE_RATE_LIMIT_PASSWORD_RESET_ADDRESS: '0',
      // Cheap hashes, one at a time: logins queue behind the reset's new hash, as in production.
      GATEHOUSE_ARGON2_MEMORY_KIB: '1024',
      GATEHOUSE_ARGON2_ITERATIONS: '1',
      GATEHOUSE_HASH_CONCURRENCY: '1',
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

      let settled = false;
      const reset = suite.t.app
        .inject({
          method: 'POST',
          url: '/password-reset/confirm',
          payload: { token, new_password: NEW_PASSWORD },
        })
        .finally(() => {
          settled = true;
        });
      const logins: ReturnType<typeof login>[] = [];
      while (!settled && logins.length < MAX_LOGINS) {
        logins.push(login(email, STRONG_PASSWORD));
        await sleep(LOGIN_SPACING_MS);
      }
      const done = await reset;
      assert.equal(done.statusCode, 204, done.body);
      const answers = await Promise.all(logins);

      assert.equal((await login(email, STRONG_PASSWORD)).statusCode, 401, 'old password');
      assert.equal((await login(email, NEW_PASSWORD)).statusCode, 200, 'new password');
      const granted: TokenPair[] = [before];
      for (const answer of answers) {
        assert.ok([200, 401].includes(answer.statusCode), `${answer.statusCode} ${answer.body}`);
        if (answer.statusCode === 200) granted.push(toPair(answer.json()));
      }
      const live = { accessTokens: 0, refreshTokens: 0 };
      for (const pair of granted) {
        if ((await me(suite.t.app, pair.accessToken)).statusCode !== 401) live.accessTokens += 1;
        if ((await refresh(suite.t.app, pair.refreshToken)).statusCode !== 400) {
          live.refreshTokens += 1;
        }
      }
      assert.deepEqual(
        live,
        { accessTokens: 0, refreshTokens: 0 },
        `of ${granted.length} sessions opened with the old password`,
      );
    });
  });
}
