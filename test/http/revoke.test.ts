import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { me, refresh, userWithTwoSessions, postForm } from '../support/client.ts';
import { basicAuthorization, registerClient, revoke } from '../support/api-clients.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { testAppPerSuite } from '../support/test-app.ts';

for (const backend of STORAGE_BACKENDS) {
  describe(`POST /revoke (RFC 7009) on ${backend.name}`, { skip: backend.skip }, () => {
    const suite = testAppPerSuite(backend);

    /** Asserts RFC 7009 2.2's answer: 200, an empty body, not cached. */
    function assertRevokedAnswer(response: Awaited<ReturnType<typeof revoke>>): void {
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.body, '');
      assert.equal(response.headers['cache-control'], 'no-store');
    }

    it('an access token ends its session: the token gets 401 and the refresh token is refused', async () => {
      const { a, b } = await userWithTwoSessions(suite.t.app);
      assertRevokedAnswer(await revoke(suite.t.app, a.accessToken));
      assert.equal((await me(suite.t.app, a.accessToken)).statusCode, 401);
      assert.equal((await refresh(suite.t.app, a.refreshToken)).statusCode, 400);
      // Only that session: the user's other one keeps working.
      assert.equal((await me(suite.t.app, b.accessToken)).statusCode, 200);
    });

    it('a refresh token ends its session, with or without the hint', async () => {
      for (const hint of ['refresh_token', undefined]) {
        const { a, b } = await userWithTwoSessions(suite.t.app);
        assertRevokedAnswer(await revoke(suite.t.app, a.refreshToken, hint));
        assert.equal((await me(suite.t.app, a.accessToken)).statusCode, 401);
        assert.equal((await refresh(suite.t.app, a.refreshToken)).statusCode, 400);
        assert.equal((await me(suite.t.app, b.accessToken)).statusCode, 200);
      }
    });

    it('a wrong or unknown hint is ignored: the token is still found and revoked', async () => {
      for (const [kind, hint] of [
        ['accessToken', 'refresh_token'],
        ['refreshToken', 'access_token'],
        ['accessToken', 'id_token'],
        ['refreshToken', ''],
      ] as const) {
        const { a } = await userWithTwoSessions(suite.t.app);
        assertRevokedAnswer(await revoke(suite.t.app, a[kind], hint));
        assert.equal((await me(suite.t.app, a.accessToken)).statusCode, 401, `${kind} ${hint}`);
      }
    });

    it('a used (rotated) refresh token still ends its session, with the new tokens', async () => {
      const { a } = await userWithTwoSessions(suite.t.app);
      const rotated = await refresh(suite.t.app, a.refreshToken);
      assert.equal(rotated.statusCode, 200);
      const { access_token: newAccess, refresh_token: newRefresh } = rotated.json() as Record<
        string,
        string
      >;
      assertRevokedAnswer(await revoke(suite.t.app, a.refreshToken, 'refresh_token'));
      assert.equal((await me(suite.t.app, String(newAccess))).statusCode, 401);
      assert.equal((await refresh(suite.t.app, String(newRefresh))).statusCode, 400);
    });

    it('garbage, unknown, empty and already revoked tokens answer 200 and end nothing', async () => {
      const { a } = await userWithTwoSessions(suite.t.app);
      for (const token of [
        'garbage',
        'a.b.c',
        '',
        'x'.repeat(10_000),
        `${a.accessToken.slice(0, -4)}AAAA`,
        'eyJhbGciOiJub25lIn0.eyJzaWQiOiJ4In0.',
      ]) {
        assertRevokedAnswer(await revoke(suite.t.app, token));
      }
      assert.equal((await me(suite.t.app, a.accessToken)).statusCode, 200);
      assertRevokedAnswer(await revoke(suite.t.app, a.accessToken));
      assertRevokedAnswer(await revoke(suite.t.app, a.accessToken));
    });

    it('an expired access token still ends its session; a forged expired one does not', async () => {
      const { a, b } = await userWithTwoSessions(suite.t.app);
      suite.clock.advance(
        suite.t.config.tokens.accessTtl + suite.t.config.tokens.clockToleranceSeconds + 1,
      );
      assert.equal((await me(suite.t.app, a.accessToken)).statusCode, 401);
      // The same expired token with a broken signature: nothing may be read from it.
      const [header, payload, signature = ''] = b.accessToken.split('.');
      const forged = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
      assertRevokedAnswer(await revoke(suite.t.app, forged));
      assert.equal((await refresh(suite.t.app, b.refreshToken)).statusCode, 200);
      assertRevokedAnswer(await revoke(suite.t.app, a.accessToken));
      assert.equal((await refresh(suite.t.app, a.refreshToken)).statusCode, 400);
    });

    it('a 20 KB token is over the body limit: 413 with a JSON detail, never a 500', async () => {
      const response = await revoke(suite.t.app, 'x'.repeat(20_000));
      assert.equal(response.statusCode, 413);
      assert.equal((response.json() as { detail: string }).detail, 'Request body too large');
    });

    it('a missing token is 400 invalid_request in the RFC 6749 5.2 shape', async () => {
      const response = await postForm(suite.t.app, '/revoke', 'token_type_hint=access_token');
      assert.equal(response.statusCode, 400);
      const body = response.json() as Record<string, unknown>;
      assert.equal(body.error, 'invalid_request');
      assert.equal(typeof body.error_description, 'string');
      assert.equal(typeof body.detail, 'string');
    });

    it('a token sent twice is 400 invalid_request; a JSON body is 422; neither is a 500', async () => {
      const twice = await postForm(suite.t.app, '/revoke', 'token=a&token=b');
      assert.equal(twice.statusCode, 400);
      assert.equal((twice.json() as { error: string }).error, 'invalid_request');
      const json = await suite.t.app.inject({
        method: 'POST',
        url: '/revoke',
        payload: { token: 'x' },
      });
      assert.equal(json.statusCode, 422);
      assert.equal((json.json() as { error: string }).error, 'invalid_request');
    });

    it('needs no client authentication, but Basic credentials when sent must be valid', async () => {
      const client = await registerClient(suite.t);
      const { a, b } = await userWithTwoSessions(suite.t.app);
      const wrong = await revoke(suite.t.app, a.accessToken, undefined, {
        authorization: basicAuthorization(client.clientId, 'wrong'),
      });
      assert.equal(wrong.statusCode, 401);
      assert.equal((wrong.json() as { error: string }).error, 'invalid_client');
      assert.match(String(wrong.headers['www-authenticate']), /^Basic /);
      // Refused: the session was not ended.
      assert.equal((await me(suite.t.app, a.accessToken)).statusCode, 200);
      assertRevokedAnswer(
        await revoke(suite.t.app, a.accessToken, undefined, {
          authorization: client.authorization,
        }),
      );
      assert.equal((await me(suite.t.app, a.accessToken)).statusCode, 401);
      // A Bearer header is not client authentication and is ignored.
      assertRevokedAnswer(
        await revoke(suite.t.app, b.accessToken, undefined, { authorization: 'Bearer nonsense' }),
      );
      assert.equal((await me(suite.t.app, b.accessToken)).statusCode, 401);
    });

    it('is audited as a logout of the session', async () => {
      const { a } = await userWithTwoSessions(suite.t.app);
      assertRevokedAnswer(await revoke(suite.t.app, a.refreshToken));
      const { items } = await suite.t.services.listAuditEvents(
        { type: 'session.logout' },
        { limit: 5 },
      );
      assert.deepEqual(items[0]?.details, { session_id: a.sid, revoked: 'refresh_token' });
    });
  });
}

describe('POST /revoke is rate limited per IP like /token', () => {
  const suite = testAppPerSuite(STORAGE_BACKENDS[0]!, { GATEHOUSE_RATE_LIMIT_TOKEN: '3' });

  it('answers 429 with Retry-After past GATEHOUSE_RATE_LIMIT_TOKEN requests a minute', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await revoke(suite.t.app, 'x')).statusCode);
    assert.deepEqual(statuses.slice(0, 3), [200, 200, 200]);
    assert.equal(statuses[3], 429);
    const limited = await revoke(suite.t.app, 'x');
    assert.ok(Number(limited.headers['retry-after']) > 0);
  });
});
