import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { ConfigError, loadConfig } from '../../src/config/load-config.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { postForm } from '../support/client.ts';

// OWASP REST Security Cheat Sheet / ASVS 14.4: API responses carry nosniff, a CSP that allows
// nothing, no framing and no caching; /docs keeps a CSP that lets Swagger UI run. CORS is off
// unless GATEHOUSE_CORS_ORIGINS names the origins allowed.

const API_CSP = "default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'";
const WEB_UI_BUILT = existsSync(new URL('../../web/dist/index.html', import.meta.url));

function assertApiHeaders(response: LightMyRequestResponse): void {
  const h = response.headers;
  assert.equal(h['content-security-policy'], API_CSP);
  assert.equal(h['x-content-type-options'], 'nosniff');
  assert.equal(h['x-frame-options'], 'DENY');
  assert.equal(h['referrer-policy'], 'no-referrer');
  assert.equal(h['cross-origin-opener-policy'], 'same-origin');
  assert.equal(h['cross-origin-resource-policy'], 'same-origin');
  assert.match(String(h['strict-transport-security']), /^max-age=\d+/);
  assert.equal(h['cache-control'], 'no-store');
  assert.equal(h['x-powered-by'], undefined);
}

function preflight(t: TestApp, origin: string, requestHeaders = 'authorization,content-type') {
  return t.app.inject({
    method: 'OPTIONS',
    url: '/users/me/',
    headers: {
      origin,
      'access-control-request-method': 'GET',
      'access-control-request-headers': requestHeaders,
    },
  });
}

describe('security headers', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('sends the API headers on success, error and not-found responses', async () => {
    const responses = await Promise.all([
      t.app.inject({ method: 'GET', url: '/healthz' }),
      t.app.inject({ method: 'GET', url: '/users/me/' }),
      t.app.inject({ method: 'GET', url: '/no/such/thing' }),
      t.app.inject({ method: 'POST', url: '/users/', payload: { email: 'x' } }),
    ]);
    assert.deepEqual(
      responses.map((r) => r.statusCode),
      [200, 401, 404, 422],
    );
    for (const response of responses) assertApiHeaders(response);
  });

  it('keeps RFC 6749 5.1 no-store and no-cache on token responses', async () => {
    const response = await postForm(t.app, '/token', 'username=a%40b.co&password=wrong-password');
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.equal(response.headers.pragma, 'no-cache');
  });

  it("serves /docs with Swagger UI's own CSP, which lets its scripts and styles load", async () => {
    const page = await t.app.inject({ method: 'GET', url: '/docs' });
    assert.equal(page.statusCode, 200);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /style-src 'self'/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    const bundle = await t.app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
    assert.equal(bundle.statusCode, 200);
    assert.match(String(bundle.headers['content-type']), /javascript/);
  });

  it(
    'leaves the web UI its own CSP and cache policy',
    { skip: !WEB_UI_BUILT && 'web UI not built' },
    async () => {
      const page = await t.app.inject({ method: 'GET', url: '/' });
      assert.equal(page.statusCode, 200);
      assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
      assert.equal(page.headers['cache-control'], 'no-cache');
    },
  );

  it('answers no CORS preflight and grants no origin by default', async () => {
    const response = await preflight(t, 'https://app.example.com');
    assert.equal(response.headers['access-control-allow-origin'], undefined);
    const get = await t.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { origin: 'https://app.example.com' },
    });
    assert.equal(get.headers['access-control-allow-origin'], undefined);
  });
});

describe('CORS allow-list (GATEHOUSE_CORS_ORIGINS)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({
      env: { GATEHOUSE_CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' },
    });
  });
  after(() => t.close());

  it('grants a listed origin Bearer calls, without credentials', async () => {
    const response = await preflight(t, 'http://localhost:5173');
    assert.equal(response.statusCode, 204);
    const h = response.headers;
    assert.equal(h['access-control-allow-origin'], 'http://localhost:5173');
    assert.match(String(h['access-control-allow-headers']), /Authorization/);
    assert.match(String(h['access-control-allow-methods']), /POST/);
    assert.equal(h['access-control-allow-credentials'], undefined);
    assert.match(String(h.vary), /Origin/);

    const get = await t.app.inject({
      method: 'GET',
      url: '/users/me/',
      headers: { origin: 'https://app.example.com' },
    });
    assert.equal(get.statusCode, 401);
    assert.equal(get.headers['access-control-allow-origin'], 'https://app.example.com');
    assert.match(String(get.headers['access-control-expose-headers']), /WWW-Authenticate/);
  });

  it('grants nothing to an origin that is not listed', async () => {
    for (const origin of ['https://evil.example', 'https://app.example.com.evil.example', 'null']) {
      const response = await preflight(t, origin);
      assert.equal(response.headers['access-control-allow-origin'], undefined, origin);
    }
  });

  it("never allows the refresh-cookie header cross-origin (it guards cookie mode's CSRF check)", async () => {
    const response = await preflight(t, 'https://app.example.com', 'x-gatehouse-refresh-cookie');
    assert.doesNotMatch(
      String(response.headers['access-control-allow-headers']),
      /x-gatehouse-refresh-cookie/i,
    );
  });
});

describe('GATEHOUSE_CORS_ORIGINS validation', () => {
  it('refuses a wildcard, a path or a non-http origin, naming each', () => {
    const env = {
      GATEHOUSE_CORS_ORIGINS: '*,https://ok.example,https://x.example/app,ftp://files.example',
    };
    assert.throws(
      () => loadConfig(env),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        const cors = error.problems.filter((p) => p.startsWith('GATEHOUSE_CORS_ORIGINS'));
        assert.equal(cors.length, 3, cors.join('\n'));
        assert.ok(cors.some((p) => p.includes('"*"')));
        assert.ok(cors.some((p) => p.includes('"https://x.example/app"')));
        return true;
      },
    );
  });

  it('defaults to no origins, and reads a comma-separated list', () => {
    assert.deepEqual(loadConfig({}).http.corsOrigins, []);
    assert.deepEqual(
      loadConfig({ GATEHOUSE_CORS_ORIGINS: 'https://a.example,http://localhost:3000' }).http
        .corsOrigins,
      ['https://a.example', 'http://localhost:3000'],
    );
  });
});
