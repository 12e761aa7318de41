import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HTTPMethods } from 'fastify';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// RFC 9110 15.5.6: a method the resource doesn't support is 405 with an Allow header listing
// those it does (FastAPI answers 405 {"detail":"Method Not Allowed"}); a path no route has is
// 404. The Allow header is what the router would answer: a method listed there reaches a route.

const NOT_ALLOWED: [HTTPMethods, string, string][] = [
  ['DELETE', '/token', 'POST'],
  ['GET', '/token', 'POST'],
  // Fastify serves HEAD only for GET routes.
  ['HEAD', '/token', 'POST'],
  ['DELETE', '/token?grant_type=password', 'POST'],
  ['PUT', '/users/', 'GET, HEAD, POST'],
  ['DELETE', '/users', 'GET, HEAD, POST'],
  // `/users/{id}` matches `me` too (and answers 422: not an integer id), as Fastify routes it.
  ['PUT', '/users/me/', 'GET, HEAD, PATCH, DELETE'],
  ['POST', '/users/me', 'GET, HEAD, PATCH, DELETE'],
  ['POST', '/users/42', 'GET, HEAD, PATCH, DELETE'],
  ['PUT', '/users/42/', 'GET, HEAD, PATCH, DELETE'],
  ['GET', '/users/42/sessions', 'DELETE'],
  ['POST', '/users/me/sessions/some-id', 'DELETE'],
  ['GET', '/users/me/password', 'PUT'],
  ['GET', '/logout', 'POST'],
  ['DELETE', '/healthz', 'GET, HEAD'],
  ['POST', '/.well-known/jwks.json', 'GET, HEAD'],
  ['PATCH', '/clients/', 'GET, HEAD, POST'],
];

const NOT_FOUND: [HTTPMethods, string][] = [
  ['GET', '/nowhere'],
  ['POST', '/nowhere/'],
  ['DELETE', '/users/42/unknown'],
  ['PUT', '/users/me/sessions/some-id/more'],
  ['GET', '/tokens'],
];

describe('a method the path does not support', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  for (const [method, url, allow] of NOT_ALLOWED) {
    it(`${method} ${url} is 405 with Allow: ${allow}`, async () => {
      const response = await t.app.inject({ method, url });
      assert.equal(response.statusCode, 405);
      assert.equal(response.headers.allow, allow);
      assert.match(String(response.headers['content-type']), /^application\/json/);
      if (method !== 'HEAD') {
        assert.deepEqual(response.json(), {
          detail: 'Method Not Allowed',
          code: 'method_not_allowed',
        });
      }
    });
  }

  for (const [method, url] of NOT_FOUND) {
    it(`${method} ${url} (no such path) is still 404, without Allow`, async () => {
      const response = await t.app.inject({ method, url });
      assert.equal(response.statusCode, 404);
      assert.equal(response.headers.allow, undefined);
      assert.deepEqual(response.json(), { detail: 'Not Found' });
    });
  }

  it('answers 404, not 405, when a route of the method itself finds nothing to serve', async () => {
    // The Swagger UI's static route (`/docs/static/*`) takes GET and HEAD and calls the
    // not-found handler for a file it doesn't have: the method is allowed, the resource isn't.
    for (const method of ['GET', 'HEAD'] as const) {
      const response = await t.app.inject({ method, url: '/docs/static/nope.js' });
      assert.equal(response.statusCode, 404, method);
      assert.equal(response.headers.allow, undefined, method);
      if (method === 'GET') assert.deepEqual(response.json(), { detail: 'Not Found' });
    }
    // Another method on that path is still 405.
    const wrong = await t.app.inject({ method: 'POST', url: '/docs/static/nope.js' });
    assert.equal(wrong.statusCode, 405);
    assert.equal(wrong.headers.allow, 'GET, HEAD');
  });

  it('serves every method Allow lists: HEAD of a GET route answers', async () => {
    const response = await t.app.inject({ method: 'HEAD', url: '/healthz' });
    assert.equal(response.statusCode, 200);
  });

  it('leaves OPTIONS as it was without CORS: 404, no Allow, no CORS grant', async () => {
    const response = await t.app.inject({
      method: 'OPTIONS',
      url: '/users/me/',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' },
    });
    assert.equal(response.statusCode, 404);
    assert.equal(response.headers.allow, undefined);
    assert.equal(response.headers['access-control-allow-origin'], undefined);
  });
});

describe('a method the path does not support, with CORS on', () => {
  let t: TestApp;
  const origin = 'https://app.example.com';
  before(async () => {
    t = await createTestApp({ env: { GATEHOUSE_CORS_ORIGINS: origin } });
  });
  after(() => t.close());

  it('still answers the preflight of an existing or unknown path 204, as @fastify/cors does', async () => {
    for (const url of ['/token', '/users/me/', '/nowhere']) {
      const response = await t.app.inject({
        method: 'OPTIONS',
        url,
        headers: { origin, 'access-control-request-method': 'POST' },
      });
      assert.equal(response.statusCode, 204, url);
      assert.equal(response.headers['access-control-allow-origin'], origin);
      assert.equal(response.headers.allow, undefined);
    }
  });

  it('does not take the preflight route for a method: an unknown path is 404, DELETE /token 405', async () => {
    const unknown = await t.app.inject({ method: 'GET', url: '/nowhere', headers: { origin } });
    assert.equal(unknown.statusCode, 404);
    const wrong = await t.app.inject({ method: 'DELETE', url: '/token', headers: { origin } });
    assert.equal(wrong.statusCode, 405);
    assert.equal(wrong.headers.allow, 'POST');
    // The browser can read the answer: CORS headers are on the 405 as on every response.
    assert.equal(wrong.headers['access-control-allow-origin'], origin);
  });

  it('leaves an OPTIONS that is no preflight to @fastify/cors: its strict 400, no Allow', async () => {
    const response = await t.app.inject({ method: 'OPTIONS', url: '/token' });
    assert.equal(response.statusCode, 400);
    assert.equal(response.headers.allow, undefined);
  });
});
