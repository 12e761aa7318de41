import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bearer,
  claimsOf,
  createUser,
  FORM,
  logIn,
  STRONG_PASSWORD,
  requestAs,
  logout,
} from '../support/client.ts';
import { basicAuthorization, introspect, registerClient, revoke } from '../support/api-clients.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { testAppPerSuite } from '../support/test-app.ts';

const INACTIVE = { active: false };

for (const backend of STORAGE_BACKENDS) {
  describe(`POST /introspect (RFC 7662) on ${backend.name}`, { skip: backend.skip }, () => {
    const suite = testAppPerSuite(backend);
    let auth: { authorization: string } | undefined;

    /** Introspects with a registered client; returns the JSON after checking status and caching. */
    async function check(token: string, extra: Record<string, string> = {}) {
      auth ??= { authorization: (await registerClient(suite.t)).authorization };
      const response = await introspect(suite.t.app, token, auth, extra);
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.headers['cache-control'], 'no-store');
      return response.json() as Record<string, unknown>;
    }

    it('answers an active access token with its claims, the user and the session', async () => {
      const { user, accessToken } = await createUser(suite.t);
      const claims = claimsOf(accessToken);
      assert.deepEqual(await check(accessToken), {
        active: true,
        sub: String(user.id),
        scope: 'me',
        exp: claims.exp,
        iat: claims.iat,
        sid: claims.sid,
        iss: suite.t.config.tokens.issuer,
        aud: suite.t.config.tokens.audience,
        token_type: 'Bearer',
        username: user.email,
      });
    });

    it("answers the session's effective scope now: a demoted admin's token loses admin", async () => {
      await createUser(suite.t, 'admin'); // so that the one demoted is not the last admin
      const admin = await createUser(suite.t, 'admin');
      assert.equal((await check(admin.accessToken)).scope, 'me admin');
      await suite.t.services.changeUserAccess({
        actorId: null,
        userId: admin.user.id,
        changes: { role: 'user' },
      });
      assert.equal((await check(admin.accessToken)).scope, 'me');
    });

    it('is inactive at once after logout and after /revoke', async () => {
      const a = await createUser(suite.t);
      const b = await logIn(suite.t.app, a.user);
      const loggedOut = await logout(suite.t.app, a.accessToken);
      assert.equal(loggedOut.statusCode, 204);
      assert.deepEqual(await check(a.accessToken), INACTIVE);
      assert.equal((await check(b.accessToken)).active, true);
      assert.equal((await revoke(suite.t.app, b.refreshToken)).statusCode, 200);
      assert.deepEqual(await check(b.accessToken), INACTIVE);
    });

    it("is inactive for the user's other sessions after a password change, not for the caller's", async () => {
      const a = await createUser(suite.t);
      const b = await logIn(suite.t.app, a.user);
      const change = await requestAs(suite.t.app, a.accessToken, 'PUT', '/users/me/password', {
        current_password: STRONG_PASSWORD,
        new_password: 'another long passphrase',
      });
      assert.equal(change.statusCode, 204);
      assert.equal((await check(a.accessToken)).active, true);
      assert.deepEqual(await check(b.accessToken), INACTIVE);
    });

    it('is inactive once an admin disables or deletes the user', async () => {
      const disabled = await createUser(suite.t);
      const deleted = await createUser(suite.t);
      await suite.t.services.changeUserAccess({
        actorId: null,
        userId: disabled.user.id,
        changes: { disabled: true },
      });
      await suite.t.services.deleteUser({ actorId: null, userId: deleted.user.id });
      assert.deepEqual(await check(disabled.accessToken), INACTIVE);
      assert.deepEqual(await check(deleted.accessToken), INACTIVE);
    });

    it('is inactive, and says nothing more, for refresh, garbage, forged and empty tokens', async () => {
      const a = await createUser(suite.t);
      const [header, payload] = a.accessToken.split('.');
      for (const token of [
        a.refreshToken,
        'garbage',
        '',
        'x'.repeat(10_000),
        `${header}.${payload}.AAAA`,
        'eyJhbGciOiJub25lIn0.eyJzaWQiOiJ4In0.',
      ]) {
        assert.deepEqual(await check(token), INACTIVE);
        assert.deepEqual(await check(token, { token_type_hint: 'refresh_token' }), INACTIVE);
      }
      // The hint never makes a live access token inactive (RFC 7662 2.1: it may be ignored).
      assert.equal((await check(a.accessToken, { token_type_hint: 'refresh_token' })).active, true);
    });

    it('is inactive for an expired access token while its session lives on', async () => {
      const a = await createUser(suite.t);
      suite.clock.advance(
        suite.t.config.tokens.accessTtl + suite.t.config.tokens.clockToleranceSeconds + 1,
      );
      assert.deepEqual(await check(a.accessToken), INACTIVE);
    });

    it("does not touch the session's last use: introspection is not the user's activity", async () => {
      const a = await createUser(suite.t);
      const before = await suite.t.services.listSessions(a.user.id);
      suite.clock.advance(120);
      assert.equal((await check(a.accessToken)).active, true);
      const after = await suite.t.services.listSessions(a.user.id);
      assert.deepEqual(
        after.map((s) => s.lastUsedAt),
        before.map((s) => s.lastUsedAt),
      );
    });

    it('decodes the credentials as RFC 6749 2.3.1 says: form-encoded halves, then base64', async () => {
      const client = await registerClient(suite.t);
      const a = await createUser(suite.t);
      // Every character percent-encoded: still the same id and secret.
      const percent = (value: string) =>
        [...Buffer.from(value)].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
      const header = `basic ${Buffer.from(`${percent(client.clientId)}:${percent(client.secret)}`).toString('base64')}`;
      const response = await introspect(suite.t.app, a.accessToken, { authorization: header });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal((response.json() as { active: boolean }).active, true);
    });

    it('refuses missing, wrong, unknown, deleted and malformed client credentials with 401 invalid_client', async () => {
      const client = await registerClient(suite.t);
      const gone = await registerClient(suite.t);
      await suite.t.services.deleteApiClient({ actorId: null, id: gone.id });
      const a = await createUser(suite.t);
      const b64 = (text: string) => Buffer.from(text).toString('base64');
      const cases: Record<string, Record<string, string>> = {
        none: {},
        'wrong secret': { authorization: basicAuthorization(client.clientId, 'wrong') },
        'empty secret': { authorization: basicAuthorization(client.clientId, '') },
        'unknown client': { authorization: basicAuthorization('gh_nobody', client.secret) },
        'another client’s secret': {
          authorization: basicAuthorization(gone.clientId, client.secret),
        },
        'deleted client': { authorization: gone.authorization },
        'bad base64': { authorization: 'Basic !!!not-base64!!!' },
        'no colon': { authorization: `Basic ${b64(client.clientId + client.secret)}` },
        huge: { authorization: `Basic ${b64('a'.repeat(5000) + ':' + 'b'.repeat(5000))}` },
        'bad percent-encoding': { authorization: `Basic ${b64(`%zz:${client.secret}`)}` },
        'scheme only': { authorization: 'Basic' },
        bearer: bearer(a.accessToken),
      };
      for (const [name, headers] of Object.entries(cases)) {
        const response = await introspect(suite.t.app, a.accessToken, headers);
        assert.equal(response.statusCode, 401, name);
        assert.equal(response.headers['www-authenticate'], 'Basic realm="gatehouse"', name);
        const body = response.json() as Record<string, unknown>;
        assert.equal(body.error, 'invalid_client', name);
        assert.equal(typeof body.error_description, 'string', name);
        assert.equal(typeof body.detail, 'string', name);
        assert.equal(JSON.stringify(body).includes(client.secret), false, name);
      }
    });

    it('answers a missing, repeated or oversized token with a 4xx, never a 500', async () => {
      const { authorization } = await registerClient(suite.t);
      const post = (payload: string) =>
        suite.t.app.inject({
          method: 'POST',
          url: '/introspect',
          headers: { ...FORM, authorization },
          payload,
        });
      const missing = await post('token_type_hint=access_token');
      assert.equal(missing.statusCode, 400);
      assert.equal((missing.json() as { error: string }).error, 'invalid_request');
      const twice = await post('token=a&token=b');
      assert.equal(twice.statusCode, 400);
      assert.equal((twice.json() as { error: string }).error, 'invalid_request');
      const huge = await post(`token=${'x'.repeat(20_000)}`);
      assert.equal(huge.statusCode, 413);
    });
  });
}
