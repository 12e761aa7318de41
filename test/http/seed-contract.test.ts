import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { FORM, STRONG_PASSWORD, uniqueEmail } from '../support/client.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// API.md 1, row by row: the status codes, `detail` strings and headers a FastAPI
// "OAuth2 password flow with JWT" client depends on.

const BEARER_CHALLENGE = 'Bearer';

function register(app: FastifyInstance, body: object, url = '/users/') {
  return app.inject({ method: 'POST', url, payload: body });
}

function login(app: FastifyInstance, fields: Record<string, string>, url = '/token') {
  return app.inject({
    method: 'POST',
    url,
    headers: FORM,
    payload: new URLSearchParams(fields).toString(),
  });
}

function me(app: FastifyInstance, headers: Record<string, string> = {}, url = '/users/me/') {
  return app.inject({ method: 'GET', url, headers });
}

/** FastAPI's 422 shape: `detail` is a list of `{loc, msg, type}`; returns the locs. */
function validationLocs(response: LightMyRequestResponse): unknown[][] {
  assert.equal(response.statusCode, 422, response.body);
  const { detail } = response.json() as { detail: unknown };
  assert.ok(
    Array.isArray(detail) && detail.length > 0,
    `detail is a non-empty list: ${response.body}`,
  );
  for (const issue of detail as Record<string, unknown>[]) {
    assert.ok(Array.isArray(issue.loc), 'each issue has a loc list');
    assert.equal(typeof issue.msg, 'string');
    assert.equal(typeof issue.type, 'string');
  }
  return (detail as { loc: unknown[] }[]).map((issue) => issue.loc);
}

function assertUnauthorized(response: LightMyRequestResponse, detail: string): void {
  assert.equal(response.statusCode, 401, response.body);
  assert.equal(response.json().detail, detail);
  assert.equal(response.headers['www-authenticate'], BEARER_CHALLENGE);
}

function assertNoPasswordField(body: Record<string, unknown>): void {
  for (const key of Object.keys(body)) assert.doesNotMatch(key, /password|hash/i);
  assert.doesNotMatch(JSON.stringify(body), /\$argon2|\$2[aby]\$/);
}

for (const backend of STORAGE_BACKENDS) {
  describe(`seed contract (API.md 1) on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    before(async () => {
      t = await createTestApp({ env: { GATEHOUSE_DATABASE_URL: await backend.freshUrl() } });
    });
    after(() => t?.close());

    describe('POST /users/', () => {
      it('answers 200 with id and email and no password or hash field', async () => {
        const email = uniqueEmail('register');
        const response = await register(t.app, { email, password: STRONG_PASSWORD });
        assert.equal(response.statusCode, 200, response.body);
        const body = response.json() as Record<string, unknown>;
        assert.equal(typeof body.id, 'number');
        assert.equal(body.email, email);
        assertNoPasswordField(body);
      });

      it('answers 400 "Email already registered" for an address taken in the same or another letter case', async () => {
        const email = uniqueEmail('taken');
        assert.equal((await register(t.app, { email, password: STRONG_PASSWORD })).statusCode, 200);
        for (const again of [
          email,
          email.toUpperCase(),
          email.replace(/^./, (c) => c.toUpperCase()),
        ]) {
          const response = await register(t.app, { email: again, password: STRONG_PASSWORD });
          assert.equal(response.statusCode, 400, again);
          assert.equal(response.json().detail, 'Email already registered');
        }
      });

      it('answers 422 at body.email for an invalid email', async () => {
        for (const email of ['not-an-email', 'a@', '@example.com', 'two@@example.com', '']) {
          const response = await register(t.app, { email, password: STRONG_PASSWORD });
          assert.deepEqual(validationLocs(response), [['body', 'email']], email);
          // Plain words a person can act on, not a validator's.
          assert.equal(
            response.json().detail[0].msg,
            'Enter an email address like name@example.com',
            email,
          );
        }
      });

      it('answers 422 with one issue per missing field', async () => {
        assert.deepEqual(validationLocs(await register(t.app, {})), [
          ['body', 'email'],
          ['body', 'password'],
        ]);
        const noPassword = await register(t.app, { email: uniqueEmail() });
        assert.deepEqual(validationLocs(noPassword), [['body', 'password']]);
        const noEmail = await register(t.app, { password: STRONG_PASSWORD });
        assert.deepEqual(validationLocs(noEmail), [['body', 'email']]);
      });

      it('answers 422 at body.password, saying why, for a password too short, too long or common', async () => {
        const cases = [
          { password: 'q7#kLmZ', why: /at least 8/ },
          { password: 'x'.repeat(129), why: /at most 128/ },
          { password: 'password123', why: /common/i },
        ];
        for (const { password, why } of cases) {
          const response = await register(t.app, { email: uniqueEmail(), password });
          assert.deepEqual(validationLocs(response), [['body', 'password']]);
          assert.match(response.json().detail[0].msg, why);
        }
      });

      it('accepts passwords of exactly 8 and exactly 128 characters', async () => {
        for (const password of ['q7#kLmZx', 'y'.repeat(120) + 'q7#kLmZx']) {
          const response = await register(t.app, { email: uniqueEmail(), password });
          assert.equal(response.statusCode, 200, `${password.length} chars: ${response.body}`);
        }
      });
    });

    describe('POST /token', () => {
      let email: string;
      before(async () => {
        email = uniqueEmail('login');
        assert.equal((await register(t.app, { email, password: STRONG_PASSWORD })).statusCode, 200);
      });

      it('answers 200 with an access_token, token_type "bearer" and Cache-Control: no-store', async () => {
        const response = await login(t.app, { username: email, password: STRONG_PASSWORD });
        assert.equal(response.statusCode, 200, response.body);
        const body = response.json();
        assert.equal(typeof body.access_token, 'string');
        assert.equal(body.access_token.split('.').length, 3, 'a JWT');
        assert.equal(body.token_type, 'bearer');
        assert.match(String(response.headers['cache-control']), /(^|,\s*)no-store(\s*,|$)/);
        assertNoPasswordField(body);
      });

      it('accepts the email in another letter case', async () => {
        for (const username of [email.toUpperCase(), email.replace(/^./, (c) => c.toUpperCase())]) {
          const response = await login(t.app, { username, password: STRONG_PASSWORD });
          assert.equal(response.statusCode, 200, `${username}: ${response.body}`);
        }
      });

      it('answers a wrong password and an unknown email with the same 401 and Bearer challenge', async () => {
        const wrong = await login(t.app, { username: email, password: `${STRONG_PASSWORD}!` });
        const unknown = await login(t.app, {
          username: uniqueEmail('nobody'),
          password: STRONG_PASSWORD,
        });
        assertUnauthorized(wrong, 'Incorrect username or password');
        assertUnauthorized(unknown, 'Incorrect username or password');
        assert.equal(unknown.body, wrong.body, 'the bodies do not reveal which emails exist');
      });

      it('answers 422 with one issue per missing field', async () => {
        const none = await login(t.app, {});
        assert.deepEqual(validationLocs(none), [
          ['body', 'username'],
          ['body', 'password'],
        ]);
        const noPassword = await login(t.app, { username: email });
        assert.deepEqual(validationLocs(noPassword), [['body', 'password']]);
        const noUsername = await login(t.app, { password: STRONG_PASSWORD });
        assert.deepEqual(validationLocs(noUsername), [['body', 'username']]);
      });
    });

    describe('GET /users/me/', () => {
      let email: string;
      let userId: number;
      let accessToken: string;
      before(async () => {
        email = uniqueEmail('me');
        const registered = await register(t.app, { email, password: STRONG_PASSWORD });
        userId = registered.json().id;
        accessToken = (await login(t.app, { username: email, password: STRONG_PASSWORD })).json()
          .access_token;
      });

      it('answers 200 with the caller, id and email, no password or hash field', async () => {
        const response = await me(t.app, { authorization: `Bearer ${accessToken}` });
        assert.equal(response.statusCode, 200, response.body);
        const body = response.json();
        assert.equal(body.id, userId);
        assert.equal(body.email, email);
        assertNoPasswordField(body);
      });

      it('reads the scheme name case-insensitively', async () => {
        for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
          const response = await me(t.app, { authorization: `${scheme} ${accessToken}` });
          assert.equal(response.statusCode, 200, `${scheme}: ${response.body}`);
        }
      });

      it('answers 401 "Not authenticated" without an Authorization header', async () => {
        assertUnauthorized(await me(t.app), 'Not authenticated');
      });

      it('answers 401 "Not authenticated" for another scheme', async () => {
        const basic = Buffer.from(`${email}:${STRONG_PASSWORD}`).toString('base64');
        assertUnauthorized(
          await me(t.app, { authorization: `Basic ${basic}` }),
          'Not authenticated',
        );
        assertUnauthorized(
          await me(t.app, { authorization: `Token ${accessToken}` }),
          'Not authenticated',
        );
      });

      it('answers 401 "Not authenticated" for a valid token in the query string only', async () => {
        for (const name of ['access_token', 'token']) {
          const response = await me(t.app, {}, `/users/me/?${name}=${accessToken}`);
          assertUnauthorized(response, 'Not authenticated');
        }
      });

      it('answers 401 "Could not validate credentials" for a garbage bearer token', async () => {
        for (const token of ['garbage', 'a.b.c', `${accessToken}x`]) {
          const response = await me(t.app, { authorization: `Bearer ${token}` });
          assertUnauthorized(response, 'Could not validate credentials');
        }
      });

      it('answers 401 "Could not validate credentials" for a token signed with another secret', async () => {
        // The very same header and claims, only the key differs.
        const forged = await new SignJWT(decodeJwt(accessToken))
          .setProtectedHeader(decodeProtectedHeader(accessToken) as { alg: string })
          .sign(new TextEncoder().encode('another-secret-another-secret-another-secret'));
        assert.notEqual(forged, accessToken);
        const response = await me(t.app, { authorization: `Bearer ${forged}` });
        assertUnauthorized(response, 'Could not validate credentials');
      });
    });

    describe('trailing slash', () => {
      it('answers all three endpoints with and without it, directly, without a redirect', async () => {
        const email = uniqueEmail('slash');
        const registrations = [
          { url: '/users', email: `a-${email}` },
          { url: '/users/', email: `b-${email}` },
        ];
        for (const { url, email } of registrations) {
          const response = await register(t.app, { email, password: STRONG_PASSWORD }, url);
          assert.equal(response.statusCode, 200, `POST ${url}: ${response.body}`);
          assert.equal(response.headers.location, undefined);
        }
        let accessToken = '';
        for (const url of ['/token', '/token/']) {
          const fields = { username: `a-${email}`, password: STRONG_PASSWORD };
          const response = await login(t.app, fields, url);
          assert.equal(response.statusCode, 200, `POST ${url}: ${response.body}`);
          assert.equal(response.headers.location, undefined);
          accessToken = response.json().access_token;
        }
        for (const url of ['/users/me', '/users/me/']) {
          const response = await me(t.app, { authorization: `Bearer ${accessToken}` }, url);
          assert.equal(response.statusCode, 200, `GET ${url}: ${response.body}`);
          assert.equal(response.headers.location, undefined);
        }
      });
    });

    describe('concurrent registrations', () => {
      it('of one address in varying letter case: exactly one 200, every other 400, never a 500', async () => {
        const email = uniqueEmail('race');
        const variants = Array.from({ length: 20 }, (_, i) =>
          [...email].map((c, j) => ((i >> (j % 5)) & 1 ? c.toUpperCase() : c)).join(''),
        );
        const responses = await Promise.all(
          variants.map((variant) => register(t.app, { email: variant, password: STRONG_PASSWORD })),
        );
        const statuses = responses.map((r) => r.statusCode);
        assert.equal(
          statuses.filter((s) => s === 200).length,
          1,
          `statuses: ${statuses.join(',')}`,
        );
        assert.equal(
          statuses.filter((s) => s === 400).length,
          19,
          `statuses: ${statuses.join(',')}`,
        );
        for (const response of responses.filter((r) => r.statusCode === 400)) {
          assert.equal(response.json().detail, 'Email already registered');
        }
        const winner = responses.find((r) => r.statusCode === 200)!;
        const login200 = await login(t.app, {
          username: email.toUpperCase(),
          password: STRONG_PASSWORD,
        });
        assert.equal(login200.statusCode, 200, 'the one account that was created can log in');
        const mine = await me(t.app, { authorization: `Bearer ${login200.json().access_token}` });
        assert.equal(mine.json().id, winner.json().id);
      });
    });
  });
}
