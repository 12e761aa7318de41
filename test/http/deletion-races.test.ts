import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import {
  createUser,
  passwordLogin,
  refresh,
  requestToken,
  STRONG_PASSWORD,
  type TokenPair,
  uniqueEmail,
  requestAs,
} from '../support/client.ts';
import { whileInFlight } from '../support/races.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { testAppPerSuite } from '../support/test-app.ts';

// Requests of an account racing its deletion by an admin. Whatever lands first, each
// answers as it would before or after the deletion (API.md 1: a 500 is a bug), and nothing of
// the account is left behind.

for (const backend of STORAGE_BACKENDS) {
  describe(
    `requests racing an account's deletion on ${backend.name}`,
    { skip: backend.skip },
    () => {
      const suite = testAppPerSuite(backend, { GATEHOUSE_LOGIN_FAILURES_BEFORE_LOCK: '1000' });

      async function newUser() {
        const email = uniqueEmail('doomed');
        return {
          email,
          user: await suite.t.services.registerUser({ email, password: STRONG_PASSWORD }),
        };
      }

      /** Sends `request()` every few ms from just before the deletion until it has answered. */
      async function duringDeletion(
        userId: number,
        request: () => Promise<LightMyRequestResponse>,
      ): Promise<LightMyRequestResponse[]> {
        const admin = await createUser(suite.t, 'admin');
        const { action: deletion, answers } = await whileInFlight(
          () => requestAs(suite.t.app, admin.accessToken, 'DELETE', `/users/${userId}`),
          request,
          { spacingMs: 3, leading: true },
        );
        assert.equal(deletion.statusCode, 204);
        return answers;
      }

      const statusesOf = (answers: LightMyRequestResponse[]) =>
        [...new Set(answers.map((a) => a.statusCode))].sort();

      it('answers each login 200 or 401, never 500, and leaves no session behind', async () => {
        const { email, user } = await newUser();
        const answers = await duringDeletion(user.id, () =>
          requestToken(suite.t.app, { username: email }),
        );
        for (const answer of answers) {
          assert.ok([200, 401].includes(answer.statusCode), `${answer.statusCode} ${answer.body}`);
        }
        assert.deepEqual(await suite.t.storage.sessions.listActive(user.id, suite.clock.now()), []);
      });

      it('answers each refresh 200 or 400, never 500', async () => {
        const { email, user } = await newUser();
        const pairs: TokenPair[] = [];
        for (let i = 0; i < 6; i += 1) pairs.push(await passwordLogin(suite.t.app, email));
        // Every refresh token of every session, each presented once, while the account goes.
        let next = 0;
        const answers = await duringDeletion(user.id, () => {
          const pair = pairs[next % pairs.length]!;
          next += 1;
          return refresh(suite.t.app, pair.refreshToken);
        });
        assert.deepEqual(
          statusesOf(answers).filter((s) => s !== 200 && s !== 400),
          [],
          answers.map((a) => a.body).join('\n'),
        );
      });

      it('answers each admin change 200 or 404, never 500', async () => {
        const { user } = await newUser();
        const admin = await createUser(suite.t, 'admin');
        let disabled = false;
        const answers = await duringDeletion(user.id, () => {
          disabled = !disabled;
          return requestAs(suite.t.app, admin.accessToken, 'PATCH', `/users/${user.id}`, {
            disabled,
          });
        });
        assert.deepEqual(
          statusesOf(answers).filter((s) => s !== 200 && s !== 404),
          [],
          answers.map((a) => a.body).join('\n'),
        );
      });
    },
  );
}
