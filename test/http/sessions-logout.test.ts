import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bearer,
  me,
  passwordLogin,
  refresh,
  registerAndLogin,
  STRONG_PASSWORD,
} from '../support/client.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { testAppPerSuite } from '../support/test-app.ts';

const NEW_PASSWORD = 'a different long passphrase';

for (const backend of STORAGE_BACKENDS) {
  describe(
    `logout, sessions and password change on ${backend.name}`,
    { skip: backend.skip },
    () => {
      const suite = testAppPerSuite(backend);

      const post = (url: string, token: string) =>
        suite.t.app.inject({ method: 'POST', url, headers: bearer(token) });
      const sessions = (token: string) =>
        suite.t.app.inject({ method: 'GET', url: '/users/me/sessions', headers: bearer(token) });

      it('POST /logout ends this session at once and leaves the other one working', async () => {
        const { email } = await registerAndLogin(suite.t.app);
        const a = await passwordLogin(suite.t.app, email);
        const b = await passwordLogin(suite.t.app, email);
        const logout = await post('/logout', a.accessToken);
        assert.equal(logout.statusCode, 204);
        assert.equal(logout.body, '');
        assert.equal((await me(suite.t.app, a.accessToken)).statusCode, 401);
        assert.equal((await refresh(suite.t.app, a.refreshToken)).statusCode, 400);
        assert.equal((await me(suite.t.app, b.accessToken)).statusCode, 200);
        assert.equal((await refresh(suite.t.app, b.refreshToken)).statusCode, 200);
      });

      it('POST /logout/all ends every session of the user', async () => {
        const { email } = await registerAndLogin(suite.t.app);
        const a = await passwordLogin(suite.t.app, email);
        const b = await passwordLogin(suite.t.app, email);
        assert.equal((await post('/logout/all', a.accessToken)).statusCode, 204);
        for (const pair of [a, b]) {
          assert.equal((await me(suite.t.app, pair.accessToken)).statusCode, 401);
          assert.equal((await refresh(suite.t.app, pair.refreshToken)).statusCode, 400);
        }
      });

      it('lists the active sessions with exactly one current, and the user agent as sent', async () => {
        const { email } = await registerAndLogin(suite.t.app);
        const a = await passwordLogin(suite.t.app, email, STRONG_PASSWORD, {
          'user-agent': 'Tab A/1.0',
        });
        await passwordLogin(suite.t.app, email, STRONG_PASSWORD, { 'user-agent': 'Tab B/2.0' });
        const response = await sessions(a.accessToken);
        assert.equal(response.statusCode, 200);
        const { items } = response.json() as { items: Record<string, unknown>[] };
        // The registerAndLogin session is there too: three in all.
        assert.equal(items.length, 3);
        for (const item of items) {
          assert.deepEqual(Object.keys(item).sort(), [
            'created_at',
            'current',
            'id',
            'ip',
            'last_used_at',
            'user_agent',
          ]);
        }
        const current = items.filter((i) => i.current);
        assert.equal(current.length, 1);
        assert.equal(current[0]!.id, a.sid);
        assert.equal(current[0]!.user_agent, 'Tab A/1.0');
        assert.ok(items.some((i) => i.user_agent === 'Tab B/2.0'));
      });

      it("DELETE /users/me/sessions/{id} ends one session; another user's id and an unknown id are 404", async () => {
        const { email } = await registerAndLogin(suite.t.app);
        const a = await passwordLogin(suite.t.app, email);
        const b = await passwordLogin(suite.t.app, email);
        const stranger = await registerAndLogin(suite.t.app);
        const strangerPair = await passwordLogin(suite.t.app, stranger.email);

        const foreign = await suite.t.app.inject({
          method: 'DELETE',
          url: `/users/me/sessions/${strangerPair.sid}`,
          headers: bearer(a.accessToken),
        });
        assert.equal(foreign.statusCode, 404);
        assert.equal(
          (await me(suite.t.app, strangerPair.accessToken)).statusCode,
          200,
          "the other user's session lives",
        );

        const unknown = await suite.t.app.inject({
          method: 'DELETE',
          url: '/users/me/sessions/00000000-0000-0000-0000-000000000000',
          headers: bearer(a.accessToken),
        });
        assert.equal(unknown.statusCode, 404);

        const ended = await suite.t.app.inject({
          method: 'DELETE',
          url: `/users/me/sessions/${b.sid}`,
          headers: bearer(a.accessToken),
        });
        assert.equal(ended.statusCode, 204);
        assert.equal((await me(suite.t.app, b.accessToken)).statusCode, 401);
        assert.equal((await me(suite.t.app, a.accessToken)).statusCode, 200);
      });

      it('PUT /users/me/password: 400 for a wrong current, 422 for a weak new, 204 and other sessions end', async () => {
        const { email } = await registerAndLogin(suite.t.app);
        const a = await passwordLogin(suite.t.app, email);
        const b = await passwordLogin(suite.t.app, email);
        const change = (current: string, next: string) =>
          suite.t.app.inject({
            method: 'PUT',
            url: '/users/me/password',
            headers: bearer(a.accessToken),
            payload: { current_password: current, new_password: next },
          });

        const wrong = await change('not my password', NEW_PASSWORD);
        assert.equal(wrong.statusCode, 400);
        assert.equal(wrong.json().detail, 'Incorrect password');

        const weak = await change(STRONG_PASSWORD, 'password1');
        assert.equal(weak.statusCode, 422);
        assert.deepEqual(weak.json().detail[0].loc, ['body', 'new_password']);

        const done = await change(STRONG_PASSWORD, NEW_PASSWORD);
        assert.equal(done.statusCode, 204);
        assert.equal(
          (await me(suite.t.app, a.accessToken)).statusCode,
          200,
          'the caller stays signed in',
        );
        assert.equal((await me(suite.t.app, b.accessToken)).statusCode, 401, 'session B ended');
        assert.equal((await refresh(suite.t.app, b.refreshToken)).statusCode, 400);

        const oldLogin = await suite.t.app.inject({
          method: 'POST',
          url: '/token',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams({ username: email, password: STRONG_PASSWORD }).toString(),
        });
        assert.equal(oldLogin.statusCode, 401);
        await passwordLogin(suite.t.app, email, NEW_PASSWORD);
      });

      it('purges expired sessions so they no longer count', async () => {
        const { email } = await registerAndLogin(suite.t.app);
        const a = await passwordLogin(suite.t.app, email);
        suite.clock.advance(suite.t.config.refreshTokenTtl + 1);
        const deleted = await suite.t.services.purgeEndedSessions();
        assert.ok(deleted >= 2, `purged ${deleted}`);
        assert.equal((await refresh(suite.t.app, a.refreshToken)).statusCode, 400);
        const fresh = await passwordLogin(suite.t.app, email);
        const { items } = (await sessions(fresh.accessToken)).json() as { items: unknown[] };
        assert.equal(items.length, 1);
      });

      it('answers every session endpoint without a token with 401 Not authenticated', async () => {
        for (const [method, url] of [
          ['POST', '/logout'],
          ['POST', '/logout/all'],
          ['GET', '/users/me/sessions'],
          ['DELETE', '/users/me/sessions/abc'],
          ['PUT', '/users/me/password'],
        ] as const) {
          const response = await suite.t.app.inject({ method, url });
          assert.equal(response.statusCode, 401, `${method} ${url}`);
          assert.equal(response.json().detail, 'Not authenticated');
          assert.equal(response.headers['www-authenticate'], 'Bearer');
        }
      });
    },
  );
}
