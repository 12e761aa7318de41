import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import {
  bearer,
  createUser,
  type LoggedIn,
  logIn,
  refresh as refreshGrant,
  requestToken,
  STRONG_PASSWORD,
  requestAs,
  logout,
} from '../support/client.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

for (const backend of STORAGE_BACKENDS) {
  describe(`OAuth2 scopes and role checks (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestApp;
    before(async () => {
      t = await createTestApp({ env: { GATEHOUSE_DATABASE_URL: await backend.freshUrl() } });
    });
    after(() => t?.close());

    const get = (url: string, token: string) =>
      t.app.inject({ method: 'GET', url, headers: bearer(token) });
    const refresh = (refreshToken: string) => refreshGrant(t.app, refreshToken);

    it('grants everything the role allows when no scope, or an empty one, is asked for', async () => {
      const user = await createUser(t);
      assert.equal(user.scope, 'me');
      const admin = await createUser(t, 'admin');
      assert.equal(admin.scope, 'me admin');
      assert.equal((await logIn(t.app, admin.user, '')).scope, 'me admin');
      assert.equal((await logIn(t.app, admin.user, '  ')).scope, 'me admin');
    });

    it('grants the subset asked for, in a canonical order, and stores it on the session', async () => {
      const admin = await createUser(t, 'admin');
      assert.equal((await logIn(t.app, admin.user, 'admin me')).scope, 'me admin');
      assert.equal((await logIn(t.app, admin.user, 'admin admin')).scope, 'admin');
      const narrow = await logIn(t.app, admin.user, 'me');
      assert.equal(narrow.scope, 'me');
      const sessions = await t.storage.sessions.listActive(admin.user.id, t.clock.now());
      assert.ok(sessions.some((s) => s.scope === 'me'));
    });

    it('refuses a scope the role does not allow, or an unknown one, with 400 invalid_scope and no session', async () => {
      const user = await createUser(t);
      const before = (await t.storage.sessions.listActive(user.user.id, t.clock.now())).length;
      for (const scope of ['admin', 'me admin', 'superuser', 'me\tadmin']) {
        const response = await requestToken(t.app, { username: user.email, scope });
        assert.equal(response.statusCode, 400, scope);
        const body = response.json();
        assert.equal(body.error, 'invalid_scope');
        assert.equal(typeof body.error_description, 'string');
        assert.equal(body.detail, body.error_description);
        assert.equal(response.headers['cache-control'], 'no-store');
      }
      const after = (await t.storage.sessions.listActive(user.user.id, t.clock.now())).length;
      assert.equal(after, before, 'no session was opened');
    });

    it('checks the password before the scope: a wrong password asking for admin is 401', async () => {
      const user = await createUser(t);
      const response = await requestToken(t.app, {
        username: user.email,
        password: 'not the password at all',
        scope: 'admin',
      });
      assert.equal(response.statusCode, 401);
      assert.equal(response.json().detail, 'Incorrect username or password');
    });

    it("refuses admin endpoints to an admin's token without the admin scope (403)", async () => {
      const admin = await createUser(t, 'admin');
      const meOnly = await logIn(t.app, admin.user, 'me');
      for (const url of ['/users/', `/users/${admin.user.id}`, '/audit']) {
        const response = await get(url, meOnly.accessToken);
        assert.equal(response.statusCode, 403, url);
        assert.equal(response.json().detail, 'Not enough permissions');
      }
      assert.equal((await get('/users/me', meOnly.accessToken)).statusCode, 200);
      assert.equal((await get('/users/', admin.accessToken)).statusCode, 200);
    });

    it("refuses the own-account endpoints to an admin's token narrowed to scope=admin (403)", async () => {
      const admin = await createUser(t, 'admin');
      const adminOnly = await logIn(t.app, admin.user, 'admin');
      assert.equal(adminOnly.scope, 'admin');
      const other = await logIn(t.app, admin.user);
      const otherSid = String(decodeJwt(other.accessToken).sid);
      const calls = [
        ['GET', '/users/me/', undefined],
        ['GET', '/users/me/sessions', undefined],
        ['DELETE', `/users/me/sessions/${otherSid}`, undefined],
        ['PUT', '/users/me/password', { current_password: STRONG_PASSWORD, new_password: 'x' }],
        ['POST', '/logout/all', undefined],
        ['POST', '/logout/others', undefined],
      ] as const;
      for (const [method, url, payload] of calls) {
        const response = await t.app.inject({
          method,
          url,
          headers: bearer(adminOnly.accessToken),
          payload,
        });
        assert.equal(response.statusCode, 403, `${method} ${url}: ${response.body}`);
        assert.equal(response.json().detail, 'Not enough permissions');
      }
      // Nothing happened: the other session still works, the admin API still answers.
      assert.equal((await get('/users/me/sessions', other.accessToken)).statusCode, 200);
      assert.equal((await get('/users/', adminOnly.accessToken)).statusCode, 200);
      // Ending its own session needs no scope: a token can always give itself up.
      const loggedOut = await logout(t.app, adminOnly.accessToken);
      assert.equal(loggedOut.statusCode, 204);
      assert.equal((await get('/users/', adminOnly.accessToken)).statusCode, 401);
    });

    it('lets a token with the me scope use the own-account endpoints', async () => {
      const user = await createUser(t);
      const meOnly = await logIn(t.app, user.user, 'me');
      assert.equal((await get('/users/me/', meOnly.accessToken)).statusCode, 200);
      assert.equal((await get('/users/me/sessions', meOnly.accessToken)).statusCode, 200);
    });

    it('keeps the granted scope across refreshes', async () => {
      const admin = await createUser(t, 'admin');
      const meOnly = await logIn(t.app, admin.user, 'me');
      const refreshed = await refresh(meOnly.refreshToken);
      assert.equal(refreshed.statusCode, 200);
      assert.equal(refreshed.json().scope, 'me');
      assert.equal((await get('/users/', refreshed.json().access_token)).statusCode, 403);

      const full = await refresh(admin.refreshToken);
      assert.equal(full.json().scope, 'me admin');
      assert.equal((await get('/users/', full.json().access_token)).statusCode, 200);
    });

    it("takes admin rights from a demoted admin's existing token on the next request", async () => {
      const boss = await createUser(t, 'admin');
      const demoted: LoggedIn = await createUser(t, 'admin');
      assert.equal((await get('/users/', demoted.accessToken)).statusCode, 200);

      const patch = await requestAs(t.app, boss.accessToken, 'PATCH', `/users/${demoted.user.id}`, {
        role: 'user',
      });
      assert.equal(patch.statusCode, 200);

      const after = await get('/users/', demoted.accessToken);
      assert.equal(after.statusCode, 403, 'same token, scope still says admin, role does not');
      assert.equal((await get('/users/me', demoted.accessToken)).json().role, 'user');
      // A refresh narrows the scope to what the role now allows.
      const refreshed = await refresh(demoted.refreshToken);
      assert.equal(refreshed.json().scope, 'me');
    });

    it('documents each admin route in OpenAPI with the admin scope required', async () => {
      const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      const routes = [
        ['/users/', 'get'],
        ['/users/{id}', 'get'],
        ['/users/{id}', 'patch'],
        ['/users/{id}', 'delete'],
        ['/audit', 'get'],
      ] as const;
      for (const [path, method] of routes) {
        const operation = spec.paths[path]?.[method];
        assert.ok(operation, `${method} ${path} is documented`);
        assert.deepEqual(
          operation.security,
          [{ OAuth2PasswordBearer: ['admin'] }],
          `${method} ${path}`,
        );
      }
      const own = [
        ['/users/me/', 'get'],
        ['/users/me/sessions', 'get'],
        ['/users/me/sessions/{id}', 'delete'],
        ['/users/me/password', 'put'],
        ['/logout/all', 'post'],
        ['/logout/others', 'post'],
      ] as const;
      for (const [path, method] of own) {
        const operation = spec.paths[path]?.[method];
        assert.ok(operation, `${method} ${path} is documented`);
        assert.deepEqual(operation.security, [{ OAuth2PasswordBearer: ['me'] }], path);
      }
      const flow = spec.components.securitySchemes.OAuth2PasswordBearer.flows.password;
      assert.deepEqual(Object.keys(flow.scopes).sort(), ['admin', 'me']);
    });
  });
}
