import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/domain/clock.ts';
import {
  bearer,
  logout,
  me,
  passwordLogin,
  refresh,
  registerAndLogin,
  requestToken,
  STRONG_PASSWORD,
  toPair,
  userWithTwoSessions,
  requestAs,
} from '../support/client.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { createTestApp, testAppPerSuite } from '../support/test-app.ts';

// Logout, logout everywhere, the session list, ending one session and a password change's
// effect on the other sessions, end to end; and what happens around them (refresh tokens of
// ended sessions, other users, the list's timestamps and IP, trailing slashes, purges).

const NEW_PASSWORD = 'a different long passphrase';

interface SessionItem {
  id: string;
  created_at: string;
  last_used_at: string;
  user_agent: string | null;
  ip: string | null;
  current: boolean;
}

for (const backend of STORAGE_BACKENDS) {
  describe(`logout and the session list on ${backend.name}`, { skip: backend.skip }, () => {
    const suite = testAppPerSuite(backend);

    const post = (url: string, token: string) =>
      suite.t.app.inject({ method: 'POST', url, headers: bearer(token) });
    const endSession = (id: string, token: string) =>
      requestAs(suite.t.app, token, 'DELETE', `/users/me/sessions/${id}`);
    async function sessionsOf(token: string, url = '/users/me/sessions'): Promise<SessionItem[]> {
      const response = await suite.t.app.inject({ method: 'GET', url, headers: bearer(token) });
      assert.equal(response.statusCode, 200, response.body);
      return (response.json() as { items: SessionItem[] }).items;
    }

    it('POST /logout ends this session at once and leaves the other one working', async () => {
      const { a, b } = await userWithTwoSessions(suite.t.app);
      const ended = await logout(suite.t.app, a.accessToken);
      assert.equal(ended.statusCode, 204);
      assert.equal(ended.body, '');
      assert.equal((await me(suite.t.app, a.accessToken)).statusCode, 401);
      assert.equal((await refresh(suite.t.app, a.refreshToken)).statusCode, 400);
      assert.equal((await me(suite.t.app, b.accessToken)).statusCode, 200);
      assert.equal((await refresh(suite.t.app, b.refreshToken)).statusCode, 200);
    });

    it('POST /logout/all ends every session of the user', async () => {
      const { a, b } = await userWithTwoSessions(suite.t.app);
      assert.equal((await logout(suite.t.app, a.accessToken, 'all')).statusCode, 204);
      for (const pair of [a, b]) {
        assert.equal((await me(suite.t.app, pair.accessToken)).statusCode, 401);
        assert.equal((await refresh(suite.t.app, pair.refreshToken)).statusCode, 400);
      }
    });

    it('POST /logout/others ends every other session of the user and keeps this one working', async () => {
      const { email, a, b } = await userWithTwoSessions(suite.t.app);
      const c = await passwordLogin(suite.t.app, email);
      const stranger = await userWithTwoSessions(suite.t.app);
      const before = await sessionsOf(a.accessToken);
      assert.equal(before.length, 4, 'registration login, a, b and c');

      const ended = await logout(suite.t.app, a.accessToken, 'others');
      assert.equal(ended.statusCode, 204);
      assert.equal(ended.body, '');
      // This session stays signed in: its refresh cookie (if any) is left alone.
      assert.equal(ended.headers['set-cookie'], undefined);
      assert.equal((await me(suite.t.app, a.accessToken)).statusCode, 200);
      for (const pair of [b, c]) {
        assert.equal((await me(suite.t.app, pair.accessToken)).statusCode, 401);
        const refused = await refresh(suite.t.app, pair.refreshToken);
        assert.equal(refused.statusCode, 400);
        assert.equal(refused.json().error, 'invalid_grant');
        assert.match(refused.json().detail, /ended from another device/);
      }
      const refreshed = await refresh(suite.t.app, a.refreshToken);
      assert.equal(refreshed.statusCode, 200, 'this session still refreshes');
      const next = toPair(refreshed.json());
      assert.deepEqual(
        (await sessionsOf(next.accessToken)).map((i) => [i.id, i.current]),
        [[a.sid, true]],
      );
      for (const pair of [stranger.a, stranger.b]) {
        assert.equal((await me(suite.t.app, pair.accessToken)).statusCode, 200);
      }
      assert.equal((await refresh(suite.t.app, stranger.a.refreshToken)).statusCode, 200);

      // Alone now: another call ends nothing and still answers 204.
      assert.equal((await logout(suite.t.app, next.accessToken, 'others')).statusCode, 204);
      assert.equal((await me(suite.t.app, next.accessToken)).statusCode, 200);
    });

    it('refuses the access token of a logged-out session everywhere, including a second logout', async () => {
      const { a } = await userWithTwoSessions(suite.t.app);
      assert.equal((await post('/logout', a.accessToken)).statusCode, 204);
      for (const [method, url] of [
        ['POST', '/logout'],
        ['POST', '/logout/all'],
        ['POST', '/logout/others'],
        ['GET', '/users/me/sessions'],
        ['GET', '/users/me/'],
      ] as const) {
        const response = await suite.t.app.inject({ method, url, headers: bearer(a.accessToken) });
        assert.equal(response.statusCode, 401, `${method} ${url}`);
        assert.equal(response.json().detail, 'Could not validate credentials');
        assert.equal(response.headers['www-authenticate'], 'Bearer');
      }
    });

    it("ends a refreshed session's latest tokens on logout, not only the first ones", async () => {
      const { a } = await userWithTwoSessions(suite.t.app);
      const latest = toPair((await refresh(suite.t.app, a.refreshToken)).json());
      assert.equal((await post('/logout', latest.accessToken)).statusCode, 204);
      assert.equal((await me(suite.t.app, latest.accessToken)).statusCode, 401);
      assert.equal((await me(suite.t.app, a.accessToken)).statusCode, 401);
      const refused = await refresh(suite.t.app, latest.refreshToken);
      assert.equal(refused.statusCode, 400);
      assert.equal(refused.json().error, 'invalid_grant');
    });

    it("leaves another user's sessions alone on logout and logout/all", async () => {
      const mine = await userWithTwoSessions(suite.t.app);
      const theirs = await userWithTwoSessions(suite.t.app);
      assert.equal((await post('/logout', mine.a.accessToken)).statusCode, 204);
      assert.equal((await post('/logout/all', mine.b.accessToken)).statusCode, 204);
      for (const pair of [theirs.a, theirs.b]) {
        assert.equal((await me(suite.t.app, pair.accessToken)).statusCode, 200);
      }
      assert.equal((await refresh(suite.t.app, theirs.a.refreshToken)).statusCode, 200);
    });

    it('lets the user sign in again after logout/all, with only the new session listed', async () => {
      const { email, a } = await userWithTwoSessions(suite.t.app);
      assert.equal((await post('/logout/all', a.accessToken)).statusCode, 204);
      const fresh = await passwordLogin(suite.t.app, email);
      const items = await sessionsOf(fresh.accessToken);
      assert.deepEqual(
        items.map((i) => [i.id, i.current]),
        [[fresh.sid, true]],
      );
    });

    it('accepts the session routes with and without the trailing slash', async () => {
      const { email, a, b } = await userWithTwoSessions(suite.t.app);
      const items = await sessionsOf(a.accessToken, '/users/me/sessions/');
      assert.ok(items.some((i) => i.id === a.sid));
      assert.equal((await post('/logout/', a.accessToken)).statusCode, 204);
      assert.equal((await me(suite.t.app, a.accessToken)).statusCode, 401);
      const c = await passwordLogin(suite.t.app, email);
      assert.equal((await post('/logout/others/', c.accessToken)).statusCode, 204);
      assert.equal((await me(suite.t.app, b.accessToken)).statusCode, 401);
      assert.equal((await post('/logout/all/', c.accessToken)).statusCode, 204);
      assert.equal((await me(suite.t.app, c.accessToken)).statusCode, 401);
    });

    it("lists each session's id, times, user agent and IP, and only the user's own active ones", async () => {
      const loginAt = suite.clock.now().toISOString();
      const { email } = await registerAndLogin(suite.t.app);
      const a = await passwordLogin(suite.t.app, email, STRONG_PASSWORD, {
        'user-agent': 'Phone/3.1',
      });
      const b = await passwordLogin(suite.t.app, email, STRONG_PASSWORD, {
        'user-agent': 'Laptop/9',
      });
      const ended = await passwordLogin(suite.t.app, email);
      assert.equal((await post('/logout', ended.accessToken)).statusCode, 204);
      await userWithTwoSessions(suite.t.app); // someone else's sessions, never listed

      const items = await sessionsOf(b.accessToken);
      assert.equal(items.length, 3, 'registration login, a and b; not the ended one');
      for (const item of items) {
        // API.md 2's fields, plus `device` (a readable name; extra fields are allowed).
        assert.deepEqual(Object.keys(item).sort(), [
          'created_at',
          'current',
          'device',
          'id',
          'ip',
          'last_used_at',
          'user_agent',
        ]);
      }
      assert.ok(!items.some((i) => i.id === ended.sid));
      const byId = new Map(items.map((i) => [i.id, i]));
      assert.equal(byId.get(a.sid)?.user_agent, 'Phone/3.1');
      assert.equal(byId.get(b.sid)?.user_agent, 'Laptop/9');
      assert.deepEqual(
        items.filter((i) => i.current).map((i) => i.id),
        [b.sid],
      );
      for (const item of items) {
        assert.equal(item.ip, '127.0.0.1');
        assert.equal(item.created_at, loginAt);
        assert.equal(item.last_used_at, loginAt);
      }
    });

    it('moves last_used_at forward on a refresh and on later requests, never created_at', async () => {
      const createdAt = suite.clock.now().toISOString();
      const { email } = await registerAndLogin(suite.t.app);
      const a = await passwordLogin(suite.t.app, email);
      suite.clock.advance(600);
      const refreshedAt = suite.clock.now().toISOString();
      const next = toPair((await refresh(suite.t.app, a.refreshToken)).json());
      let item = (await sessionsOf(next.accessToken)).find((i) => i.id === a.sid);
      assert.equal(item?.created_at, createdAt);
      assert.equal(item?.last_used_at, refreshedAt);

      suite.clock.advance(600);
      const usedAt = suite.clock.now().toISOString();
      assert.equal((await me(suite.t.app, next.accessToken)).statusCode, 200);
      item = (await sessionsOf(next.accessToken)).find((i) => i.id === a.sid);
      assert.equal(item?.created_at, createdAt);
      assert.equal(item?.last_used_at, usedAt);
    });

    it("DELETE /users/me/sessions/{id} also ends that session's refresh token and drops it from the list", async () => {
      const { a, b } = await userWithTwoSessions(suite.t.app);
      assert.equal((await endSession(b.sid, a.accessToken)).statusCode, 204);
      const refused = await refresh(suite.t.app, b.refreshToken);
      assert.equal(refused.statusCode, 400);
      assert.equal(refused.json().error, 'invalid_grant');
      assert.ok(!(await sessionsOf(a.accessToken)).some((i) => i.id === b.sid));
      assert.equal((await me(suite.t.app, b.accessToken)).statusCode, 401);
      assert.equal((await me(suite.t.app, a.accessToken)).statusCode, 200);
      // Ending it again is a 404, like any session that isn't active.
      const again = await endSession(b.sid, a.accessToken);
      assert.equal(again.statusCode, 404);
      assert.equal(typeof again.json().detail, 'string');
      assert.equal((await refresh(suite.t.app, a.refreshToken)).statusCode, 200);
    });

    it('lets a session end itself through DELETE, like a logout', async () => {
      const { a, b } = await userWithTwoSessions(suite.t.app);
      assert.equal((await endSession(a.sid, a.accessToken)).statusCode, 204);
      assert.equal((await me(suite.t.app, a.accessToken)).statusCode, 401);
      assert.equal((await me(suite.t.app, b.accessToken)).statusCode, 200);
    });

    it("answers another user's session id with the same 404 as an unknown one, and keeps it alive", async () => {
      const { a } = await userWithTwoSessions(suite.t.app);
      const stranger = await userWithTwoSessions(suite.t.app);
      const foreign = await endSession(stranger.a.sid, a.accessToken);
      const unknown = await endSession('no-such-session', a.accessToken);
      assert.equal(foreign.statusCode, 404);
      assert.equal(unknown.statusCode, 404);
      assert.deepEqual(foreign.json(), unknown.json(), 'nothing tells the two apart');
      const unknownUuid = await endSession('00000000-0000-0000-0000-000000000000', a.accessToken);
      assert.equal(unknownUuid.statusCode, 404);
      assert.equal((await me(suite.t.app, stranger.a.accessToken)).statusCode, 200);
      assert.equal((await refresh(suite.t.app, stranger.a.refreshToken)).statusCode, 200);
    });

    it('PUT /users/me/password: 400 for a wrong current, 422 for a weak new, 204 and other sessions end', async () => {
      const { email, a, b } = await userWithTwoSessions(suite.t.app);
      const change = (current: string, next: string) =>
        requestAs(suite.t.app, a.accessToken, 'PUT', '/users/me/password', {
          current_password: current,
          new_password: next,
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

      const oldLogin = await requestToken(suite.t.app, { username: email });
      assert.equal(oldLogin.statusCode, 401);
      await passwordLogin(suite.t.app, email, NEW_PASSWORD);
    });

    it('purges logged-out sessions a day after they ended, not before', async () => {
      // Its own store, so the purge counts are exact whatever the other tests left behind.
      const ownClock = new ManualClock();
      const own = await createTestApp({
        clock: ownClock,
        env: { GATEHOUSE_DATABASE_URL: await backend.freshUrl() },
      });
      try {
        const { email } = await registerAndLogin(own.app);
        const a = await passwordLogin(own.app, email);
        const b = await passwordLogin(own.app, email);
        assert.equal((await logout(own.app, b.accessToken)).statusCode, 204);
        ownClock.advance(86_400 - 60);
        assert.equal(await own.services.purgeEndedSessions(), 0, 'kept for a day');
        ownClock.advance(61);
        assert.equal(await own.services.purgeEndedSessions(), 1, 'then purged');
        assert.equal(await own.services.purgeEndedSessions(), 0);
        assert.equal((await refresh(own.app, b.refreshToken)).statusCode, 400);
        // The live sessions are untouched: a still refreshes.
        assert.equal((await refresh(own.app, a.refreshToken)).statusCode, 200);
      } finally {
        await own.close();
      }
    });

    it('answers the new endpoints with 401 Not authenticated for no token or another scheme', async () => {
      const { a } = await userWithTwoSessions(suite.t.app);
      for (const authorization of [undefined, `Basic ${a.accessToken}`, 'Token abc']) {
        for (const [method, url] of [
          ['POST', '/logout'],
          ['POST', '/logout/all'],
          ['POST', '/logout/others'],
          ['GET', '/users/me/sessions'],
          ['DELETE', `/users/me/sessions/${a.sid}`],
          ['PUT', '/users/me/password'],
        ] as const) {
          const response = await suite.t.app.inject({
            method,
            url,
            headers: authorization === undefined ? {} : { authorization },
          });
          assert.equal(response.statusCode, 401, `${method} ${url} with ${authorization}`);
          assert.equal(response.json().detail, 'Not authenticated');
          assert.equal(response.headers['www-authenticate'], 'Bearer');
        }
      }
      assert.equal((await me(suite.t.app, a.accessToken)).statusCode, 200, 'nothing was ended');
    });

    // Last: it moves the suite's clock past every refresh token's TTL.
    it('purges expired sessions so they no longer count', async () => {
      const { email } = await registerAndLogin(suite.t.app);
      const a = await passwordLogin(suite.t.app, email);
      suite.clock.advance(suite.t.config.tokens.refreshTtl + 1);
      const deleted = await suite.t.services.purgeEndedSessions();
      assert.ok(deleted >= 2, `purged ${deleted}`);
      assert.equal((await refresh(suite.t.app, a.refreshToken)).statusCode, 400);
      const fresh = await passwordLogin(suite.t.app, email);
      assert.equal((await sessionsOf(fresh.accessToken)).length, 1);
    });
  });
}
