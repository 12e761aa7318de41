import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bearer,
  FORM,
  me,
  refresh,
  requestToken,
  STRONG_PASSWORD,
  type TokenPair,
  toPair,
  userWithTwoSessions,
  listSessions,
  requestAs,
  logout,
} from '../support/client.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { testAppPerSuite } from '../support/test-app.ts';

// Password change end to end: PUT /users/me/password. sessions-logout.test.ts has the main
// 400/422/204 path; this file checks what each answer leaves behind (sessions, refresh tokens,
// which password logs in) and the request's validation.

const NEW_PASSWORD = 'an entirely new passphrase';

for (const backend of STORAGE_BACKENDS) {
  describe(`PUT /users/me/password on ${backend.name}`, { skip: backend.skip }, () => {
    const suite = testAppPerSuite(backend);

    function changePassword(token: string, payload: unknown) {
      return requestAs(
        suite.t.app,
        token,
        'PUT',
        '/users/me/password',
        payload as Record<string, unknown>,
      );
    }
    const login = (email: string, password: string) =>
      requestToken(suite.t.app, { username: email, password });
    /** Nothing changed: both sessions work and the old password still logs in. */
    async function assertUnchanged(email: string, a: TokenPair, b: TokenPair): Promise<void> {
      assert.equal((await me(suite.t.app, a.accessToken)).statusCode, 200);
      assert.equal((await me(suite.t.app, b.accessToken)).statusCode, 200);
      assert.equal((await login(email, STRONG_PASSWORD)).statusCode, 200);
      assert.equal((await login(email, NEW_PASSWORD)).statusCode, 401);
    }

    it('answers a wrong current password with 400 Incorrect password and changes nothing', async () => {
      const { email, a, b } = await userWithTwoSessions(suite.t.app);
      const wrong = await changePassword(a.accessToken, {
        current_password: 'not the password at all',
        new_password: NEW_PASSWORD,
      });
      assert.equal(wrong.statusCode, 400);
      assert.equal(wrong.json().detail, 'Incorrect password');
      await assertUnchanged(email, a, b);
    });

    for (const [why, weak] of [
      ['too short', 'short'],
      ['too long', 'x'.repeat(129)],
      ['common', 'password1'],
      ["the user's email", ''],
    ] as const) {
      it(`refuses a new password that is ${why} with 422 on new_password, saying why, and changes nothing`, async () => {
        const { email, a, b } = await userWithTwoSessions(suite.t.app);
        const response = await changePassword(a.accessToken, {
          current_password: STRONG_PASSWORD,
          new_password: weak || email,
        });
        assert.equal(response.statusCode, 422);
        const [issue] = response.json().detail as { loc: string[]; msg: string }[];
        assert.deepEqual(issue?.loc, ['body', 'new_password']);
        assert.ok(issue && issue.msg.length > 0);
        assert.ok(!issue.msg.includes(weak || email), 'the refused password is not echoed');
        await assertUnchanged(email, a, b);
      });
    }

    it('answers a missing field or a body that is not JSON with 422', async () => {
      const { a } = await userWithTwoSessions(suite.t.app);
      const missing = await changePassword(a.accessToken, { new_password: NEW_PASSWORD });
      assert.equal(missing.statusCode, 422);
      assert.ok(
        (missing.json().detail as { loc: string[] }[]).some(
          (i) => i.loc.join('.') === 'body.current_password',
        ),
      );
      const form = await suite.t.app.inject({
        method: 'PUT',
        url: '/users/me/password',
        headers: { ...bearer(a.accessToken), ...FORM },
        payload: `current_password=x&new_password=y`,
      });
      assert.equal(form.statusCode, 422);
      assert.equal((await me(suite.t.app, a.accessToken)).statusCode, 200);
    });

    it("keeps the caller's access and refresh tokens, ends session B's, and swaps the password", async () => {
      const { email, a, b } = await userWithTwoSessions(suite.t.app);
      const done = await changePassword(a.accessToken, {
        current_password: STRONG_PASSWORD,
        new_password: NEW_PASSWORD,
      });
      assert.equal(done.statusCode, 204);
      assert.equal(done.body, '');

      assert.equal((await me(suite.t.app, a.accessToken)).statusCode, 200, 'A still signed in');
      const renewed = await refresh(suite.t.app, a.refreshToken);
      assert.equal(renewed.statusCode, 200, "A's refresh token still rotates");
      const a2 = toPair(renewed.json());
      assert.equal(a2.sid, a.sid);

      assert.equal((await me(suite.t.app, b.accessToken)).statusCode, 401, "B's access token");
      const bRefresh = await refresh(suite.t.app, b.refreshToken);
      assert.equal(bRefresh.statusCode, 400, "B's refresh token");
      assert.equal(bRefresh.json().error, 'invalid_grant');

      const old = await login(email, STRONG_PASSWORD);
      assert.equal(old.statusCode, 401);
      assert.equal(old.json().detail, 'Incorrect username or password');
      const fresh = await login(email, NEW_PASSWORD);
      assert.equal(fresh.statusCode, 200);

      // Listed now: A and the fresh login; B and the registration's session are gone.
      const listed = await listSessions(suite.t.app, a2.accessToken);
      const ids = (listed.json() as { items: { id: string }[] }).items.map((i) => i.id).sort();
      assert.deepEqual(ids, [a.sid, toPair(fresh.json()).sid].sort());
    });

    it("leaves other users' sessions alone", async () => {
      const { a } = await userWithTwoSessions(suite.t.app);
      const other = await userWithTwoSessions(suite.t.app);
      const done = await changePassword(a.accessToken, {
        current_password: STRONG_PASSWORD,
        new_password: NEW_PASSWORD,
      });
      assert.equal(done.statusCode, 204);
      assert.equal((await me(suite.t.app, other.a.accessToken)).statusCode, 200);
      assert.equal((await refresh(suite.t.app, other.b.refreshToken)).statusCode, 200);
      assert.equal((await login(other.email, STRONG_PASSWORD)).statusCode, 200);
    });

    it('refuses a change with a logged-out or expired access token', async () => {
      const { a, b } = await userWithTwoSessions(suite.t.app);
      const body = { current_password: STRONG_PASSWORD, new_password: NEW_PASSWORD };
      const ended = await logout(suite.t.app, a.accessToken);
      assert.equal(ended.statusCode, 204);
      const loggedOut = await changePassword(a.accessToken, body);
      assert.equal(loggedOut.statusCode, 401);
      assert.equal(loggedOut.json().detail, 'Could not validate credentials');

      suite.clock.advance(
        suite.t.config.tokens.accessTtl + suite.t.config.tokens.clockToleranceSeconds + 1,
      );
      const expired = await changePassword(b.accessToken, body);
      assert.equal(expired.statusCode, 401);
      assert.equal(
        expired.headers['www-authenticate'],
        'Bearer error="invalid_token", error_description="The access token expired"',
      );
      // Neither attempt changed the password.
      const renewed = toPair((await refresh(suite.t.app, b.refreshToken)).json());
      const retry = await changePassword(renewed.accessToken, {
        current_password: STRONG_PASSWORD,
        new_password: NEW_PASSWORD,
      });
      assert.equal(retry.statusCode, 204);
    });
  });
}
