import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { FORM, requestToken, STRONG_PASSWORD, uniqueEmail } from '../support/client.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { createTestApp, testAppPerSuite } from '../support/test-app.ts';

// API.md 1 / RFC 6749 5.2: every error of POST /token carries `error` and `error_description`
// beside the seed's `detail`, so OAuth2 client libraries (authlib, requests-oauthlib, ...) raise
// instead of taking the body for a token. Status codes and `detail` stay the seed's.

const FAST_HASHING = { GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1' };

function postToken(
  app: FastifyInstance,
  payload: string,
  headers: Record<string, string> = FORM,
): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/token', headers, payload });
}

/** Asserts an RFC 6749 5.2 error body; returns it for further checks. */
function assertOAuthError(
  response: LightMyRequestResponse,
  status: number,
  error: string,
): Record<string, unknown> {
  assert.equal(response.statusCode, status, response.body);
  const body = response.json() as Record<string, unknown>;
  assert.equal(body.error, error, response.body);
  assert.equal(typeof body.error_description, 'string');
  assert.match(
    String(body.error_description),
    /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/,
    'RFC 6749 charset',
  );
  assert.notEqual(body.detail, undefined, 'the seed detail stays');
  assert.equal(body.access_token, undefined);
  return body;
}

for (const backend of STORAGE_BACKENDS) {
  describe(
    `POST /token errors carry RFC 6749 5.2 fields (${backend.name})`,
    { skip: backend.skip },
    () => {
      const suite = testAppPerSuite(backend, FAST_HASHING);

      it('answers a wrong password and an unknown email 401 invalid_grant, detail and challenge as before', async () => {
        const email = uniqueEmail('oauth-401');
        await suite.t.services.registerUser({ email, password: STRONG_PASSWORD });
        const wrong = await requestToken(suite.t.app, {
          username: email,
          password: 'wrong password!',
        });
        const unknown = await requestToken(suite.t.app, { username: uniqueEmail('nobody') });
        for (const response of [wrong, unknown]) {
          const body = assertOAuthError(response, 401, 'invalid_grant');
          assert.equal(body.detail, 'Incorrect username or password');
          assert.equal(body.code, 'invalid_credentials');
          assert.equal(response.headers['www-authenticate'], 'Bearer');
        }
        assert.equal(wrong.body, unknown.body, 'still no hint which emails exist');
      });

      it('answers a missing field 422 invalid_request, keeping the detail list', async () => {
        const response = await postToken(suite.t.app, 'username=someone%40example.com');
        const body = assertOAuthError(response, 422, 'invalid_request');
        assert.deepEqual(body.detail, [
          { loc: ['body', 'password'], msg: 'Field required', type: 'missing' },
        ]);
        assert.equal(body.error_description, 'body.password: Field required');
      });

      it('answers a JSON body or no content type 422 invalid_request', async () => {
        const json = await postToken(
          suite.t.app,
          JSON.stringify({ username: 'a', password: 'b' }),
          {
            'content-type': 'application/json',
          },
        );
        assert.ok(Array.isArray(assertOAuthError(json, 422, 'invalid_request').detail));
        const none = await postToken(suite.t.app, 'username=a&password=b', {});
        assert.ok(Array.isArray(assertOAuthError(none, 422, 'invalid_request').detail));
      });

      it('keeps unsupported_grant_type and invalid_scope, with detail equal to the description', async () => {
        const grant = assertOAuthError(
          await postToken(suite.t.app, 'grant_type=client_credentials'),
          400,
          'unsupported_grant_type',
        );
        assert.equal(grant.detail, grant.error_description);
        const email = uniqueEmail('oauth-scope');
        await suite.t.services.registerUser({ email, password: STRONG_PASSWORD });
        const scope = assertOAuthError(
          await requestToken(suite.t.app, { username: email, scope: 'admin' }),
          400,
          'invalid_scope',
        );
        assert.equal(scope.detail, scope.error_description);
      });

      it('answers a throttled account 429 temporarily_unavailable with Retry-After', async () => {
        const email = uniqueEmail('oauth-429');
        await suite.t.services.registerUser({ email, password: STRONG_PASSWORD });
        for (let i = 0; i < 5; i++) {
          await requestToken(suite.t.app, { username: email, password: 'wrong password!' });
        }
        const locked = await requestToken(suite.t.app, { username: email });
        const body = assertOAuthError(locked, 429, 'temporarily_unavailable');
        assert.equal(
          body.detail,
          'Too many failed login attempts for this account; try again later',
        );
        assert.equal(body.code, 'too_many_attempts');
        assert.ok(Number(locked.headers['retry-after']) >= 1);
      });
    },
  );
}

describe('POST /token errors without storage in play', () => {
  it('answers the per-IP limit 429 temporarily_unavailable', async () => {
    const t = await createTestApp({ env: { GATEHOUSE_RATE_LIMIT_TOKEN: '1' } });
    try {
      await postToken(t.app, '');
      const body = assertOAuthError(await postToken(t.app, ''), 429, 'temporarily_unavailable');
      assert.equal(body.detail, 'Too many sign-in requests from this network; try again later');
    } finally {
      await t.close();
    }
  });

  it('answers hashing overload 503 temporarily_unavailable', async () => {
    const t = await createTestApp({
      env: { GATEHOUSE_HASH_CONCURRENCY: '1', GATEHOUSE_HASH_QUEUE_LIMIT: '0' },
    });
    try {
      const logins = Array.from({ length: 6 }, () =>
        requestToken(t.app, { username: uniqueEmail('overload') }),
      );
      const overloaded = (await Promise.all(logins)).filter((r) => r.statusCode === 503);
      assert.ok(overloaded.length > 0, 'one hashing slot, no queue: some logins are refused');
      for (const response of overloaded) assertOAuthError(response, 503, 'temporarily_unavailable');
    } finally {
      await t.close();
    }
  });

  it('answers a body over the limit 413 invalid_request', async () => {
    const t = await createTestApp({ env: { GATEHOUSE_BODY_LIMIT: '1024' } });
    try {
      const response = await postToken(t.app, `username=a&password=${'x'.repeat(2048)}`);
      assert.equal(
        assertOAuthError(response, 413, 'invalid_request').detail,
        'Request body too large',
      );
    } finally {
      await t.close();
    }
  });

  it('adds no OAuth fields to the errors of other endpoints', async () => {
    const t = await createTestApp();
    try {
      const response = await t.app.inject({ method: 'POST', url: '/users/', payload: {} });
      assert.equal(response.statusCode, 422);
      assert.equal(response.json().error, undefined);
      const me = await t.app.inject({ method: 'GET', url: '/users/me/' });
      assert.deepEqual(me.json(), { detail: 'Not authenticated', code: 'not_authenticated' });
    } finally {
      await t.close();
    }
  });
});
