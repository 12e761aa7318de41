import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { normalizeEmail } from '../../src/domain/email-address.ts';
import { uniqueEmail, requestToken } from '../support/client.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

describe('operations endpoints (API.md 5)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('answers GET /healthz with 200', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().status, 'ok');
  });

  it('answers GET /readyz with 200 and the store ok', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().checks.store, 'ok');
  });

  it('serves an OpenAPI 3 document of the seed contract with an OAuth2 password flow at "token"', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(response.statusCode, 200);
    const doc = response.json();
    assert.match(String(doc.openapi), /^3\.\d+\.\d+$/);
    for (const path of ['/users/', '/token', '/users/me/']) {
      assert.ok(doc.paths?.[path], `documents ${path}`);
    }
    assert.ok(doc.paths['/users/'].post, 'POST /users/');
    assert.ok(doc.paths['/token'].post, 'POST /token');
    assert.ok(doc.paths['/users/me/'].get, 'GET /users/me/');
    const schemes = Object.values(doc.components?.securitySchemes ?? {}) as {
      type?: string;
      flows?: { password?: { tokenUrl?: string } };
    }[];
    assert.ok(
      schemes.some((s) => s.type === 'oauth2' && s.flows?.password?.tokenUrl === 'token'),
      `an oauth2 password flow with tokenUrl "token": ${JSON.stringify(schemes)}`,
    );
  });

  it('serves the Swagger UI at /docs as HTML, following a redirect if there is one', async () => {
    let url = '/docs';
    let response = await t.app.inject({ method: 'GET', url });
    for (let hops = 0; response.statusCode >= 300 && response.statusCode < 400; hops++) {
      assert.ok(hops < 3, 'at most a few redirects');
      url = new URL(String(response.headers.location), `http://localhost${url}`).pathname;
      response = await t.app.inject({ method: 'GET', url });
    }
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    assert.match(response.body, /swagger-ui/i);
  });
});

describe('no registration or login response reveals the password or its hash', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  /** Everything a client receives: status line aside, the headers and the body. */
  const received = (response: LightMyRequestResponse) =>
    `${JSON.stringify(response.headers)}\n${response.body}`;

  it('holds for success and failure answers of POST /users/ and POST /token', async () => {
    const email = uniqueEmail('secret-keeper');
    const password = 'a distinctive passphrase 7f3a9c';
    const responses: LightMyRequestResponse[] = [];
    const register = (body: object) =>
      t.app.inject({ method: 'POST', url: '/users/', payload: body });
    const login = (username: string, pass: string) =>
      requestToken(t.app, { username, password: pass });

    const created = await register({ email, password });
    assert.equal(created.statusCode, 200, created.body);
    responses.push(created);
    const duplicate = await register({ email, password });
    assert.equal(duplicate.statusCode, 400);
    responses.push(duplicate);
    const tooLong = await register({
      email: uniqueEmail(),
      password: `${password}${'x'.repeat(128)}`,
    });
    assert.equal(tooLong.statusCode, 422);
    responses.push(tooLong);
    const loggedIn = await login(email, password);
    assert.equal(loggedIn.statusCode, 200, loggedIn.body);
    responses.push(loggedIn);
    const wrong = await login(email, `${password}!`);
    assert.equal(wrong.statusCode, 401);
    responses.push(wrong);
    const unknown = await login(uniqueEmail(), password);
    assert.equal(unknown.statusCode, 401);
    responses.push(unknown);

    const stored = await t.storage.users.findByEmailForLogin(normalizeEmail(email));
    assert.ok(stored, 'the user is stored');
    assert.match(stored.passwordHash, /^\$argon2id\$/, 'stored as an argon2id hash');
    const digest = stored.passwordHash.split('$').at(-1)!;
    for (const response of responses) {
      const text = received(response);
      assert.ok(!text.includes(password), `no password in ${response.statusCode}: ${text}`);
      assert.ok(!text.includes(digest), `no hash in ${response.statusCode}`);
      assert.doesNotMatch(
        text,
        /\$argon2(id|i|d)\$|\$2[aby]\$\d\d\$/,
        `no hash string in ${response.statusCode}`,
      );
    }
  });
});
