import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import {
  me,
  passwordLogin,
  requestToken,
  STRONG_PASSWORD,
  type TokenPair,
  toPair,
  uniqueEmail,
  requestAs,
} from '../support/client.ts';
import { LOGIN_BURST_ENV, liveSessions, whileInFlight } from '../support/races.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { testAppPerSuite } from '../support/test-app.ts';

// A password change against logins with the old password that are in flight. Every
// session those logins open must end with the change (ASVS 3.3.3), each login answers 200 or
// 401 (never 500), and no login's rehash may bring the old password back.

const NEW_PASSWORD = 'an entirely new passphrase';

for (const backend of STORAGE_BACKENDS) {
  describe(`password change racing logins on ${backend.name}`, { skip: backend.skip }, () => {
    const suite = testAppPerSuite(backend, LOGIN_BURST_ENV);

    const login = (email: string, password: string) =>
      requestToken(suite.t.app, { username: email, password });

    /**
     * Starts the change, then fires logins with the old password every few ms until it has
     * answered. Logins queue for the hasher like the change does, so those fired after the
     * change queued its new hash read the old one and verify it only after the change stored
     * the new hash and ended the sessions: exactly the logins in flight that must not survive.
     */
    async function changeDuringLogins(email: string, caller: TokenPair) {
      const { action: changed, answers } = await whileInFlight(
        () =>
          requestAs(suite.t.app, caller.accessToken, 'PUT', '/users/me/password', {
            current_password: STRONG_PASSWORD,
            new_password: NEW_PASSWORD,
          }),
        () => login(email, STRONG_PASSWORD),
      );
      assert.equal(changed.statusCode, 204, changed.body);
      return answers;
    }

    /** What must hold after the change, whatever the interleaving was. */
    async function assertOnlyTheCallerSurvives(
      email: string,
      caller: TokenPair,
      answers: Awaited<ReturnType<typeof changeDuringLogins>>,
    ): Promise<void> {
      assert.equal((await login(email, STRONG_PASSWORD)).statusCode, 401, 'old password');
      assert.equal((await login(email, NEW_PASSWORD)).statusCode, 200, 'new password');
      assert.equal((await me(suite.t.app, caller.accessToken)).statusCode, 200, 'caller stays');
      const granted: TokenPair[] = [];
      for (const answer of answers) {
        assert.ok([200, 401].includes(answer.statusCode), `${answer.statusCode} ${answer.body}`);
        if (answer.statusCode === 401) {
          assert.equal(answer.json().detail, 'Incorrect username or password');
        } else {
          granted.push(toPair(answer.json()));
        }
      }
      assert.deepEqual(
        await liveSessions(suite.t.app, granted),
        { accessTokens: 0, refreshTokens: 0 },
        `of ${granted.length} sessions opened with the old password`,
      );
    }

    it('ends every session opened with the old password, logins in flight included', async () => {
      const email = uniqueEmail('race');
      await suite.t.services.registerUser({ email, password: STRONG_PASSWORD });
      const caller = await passwordLogin(suite.t.app, email);
      await assertOnlyTheCallerSurvives(email, caller, await changeDuringLogins(email, caller));
    });

    it('applies exactly one of two changes made at once from the same current password', async () => {
      const email = uniqueEmail('twice');
      await suite.t.services.registerUser({ email, password: STRONG_PASSWORD });
      const [a, b] = [
        await passwordLogin(suite.t.app, email),
        await passwordLogin(suite.t.app, email),
      ];
      const passwords = ['the first new passphrase', 'the second new passphrase'];
      const answers = await Promise.all(
        [a, b].map((pair, i) =>
          requestAs(suite.t.app, pair.accessToken, 'PUT', '/users/me/password', {
            current_password: STRONG_PASSWORD,
            new_password: passwords[i],
          }),
        ),
      );
      const statuses = answers.map((answer) => answer.statusCode);
      const bodies = answers.map((x) => x.body).join(' ');
      assert.equal(statuses.filter((status) => status === 204).length, 1, bodies);
      const winner = statuses.indexOf(204);
      // The loser is refused either way: 400 when its password check ran before the winner's
      // commit (the current password no longer matches), 401 when its token was checked after
      // it (a password change ends the account's other sessions).
      assert.ok([400, 401].includes(statuses[1 - winner]!), bodies);
      assert.equal((await login(email, passwords[winner]!)).statusCode, 200);
      assert.equal((await login(email, passwords[1 - winner]!)).statusCode, 401);
    });

    it('never lets the rehash of a stale hash restore the old password', async () => {
      // An imported bcrypt hash: every login with it verifies, then rehashes to argon2id.
      const email = uniqueEmail('stale');
      const stale = await bcryptHash(STRONG_PASSWORD, 4);
      const user = await suite.t.services.importUser({ email, passwordHash: stale });
      const caller = await passwordLogin(suite.t.app, email);
      // That login upgraded the hash; put the stale one back for the race.
      const upgraded = await suite.t.storage.users.findByEmailForLogin(email);
      assert.ok(upgraded && upgraded.passwordHash !== stale);
      assert.equal(
        await suite.t.storage.users.updatePasswordHash(user.id, stale, upgraded.passwordHash),
        true,
      );
      await assertOnlyTheCallerSurvives(email, caller, await changeDuringLogins(email, caller));
    });
  });
}
