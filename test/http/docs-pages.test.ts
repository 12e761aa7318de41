import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// The Swagger UI at /docs (API.md 5) is loaded on its first request, not at start (issue 21:
// @fastify/swagger-ui and what it pulls in cost 3-4 MB of RSS that most servers never use).
// What a browser gets must not change: the same URLs, statuses, bodies and headers, above all
// Swagger UI's own CSP on its pages (OWASP ASVS 14.4.3) and the cache policy of its assets.

// Swagger UI's static CSP (`staticCSP: true`): its scripts and styles come from /docs/static.
const DOCS_CSP =
  "default-src 'self'; base-uri 'self'; font-src 'self' https: data:; frame-ancestors 'self'; " +
  "img-src 'self' data: validator.swagger.io; object-src 'none'; script-src 'self' ; " +
  "script-src-attr 'none'; style-src 'self' https: ; upgrade-insecure-requests;";

/** Whether @fastify/swagger-ui (a CommonJS package, whoever imports it) is loaded in this process. */
function swaggerUiLoaded(): boolean {
  const cache = createRequire(import.meta.url).cache;
  return Object.keys(cache).some((path) => path.includes('/@fastify/swagger-ui/'));
}

describe('Swagger UI loaded on first use', () => {
  it('is not loaded by building the server, and is by the first request for /docs', async () => {
    const t = await createTestApp();
    try {
      assert.equal(swaggerUiLoaded(), false, 'loaded before any request for /docs');
      const page = await t.app.inject({ method: 'GET', url: '/docs' });
      assert.equal(page.statusCode, 200);
      assert.equal(swaggerUiLoaded(), true);
    } finally {
      await t.close();
    }
  });

  it('answers concurrent first requests alike', async () => {
    const t = await createTestApp();
    try {
      const urls = ['/docs', '/docs/', '/docs/static/swagger-ui.css', '/docs/json', '/docs'];
      const responses = await Promise.all(urls.map((url) => t.app.inject({ url })));
      assert.deepEqual(
        responses.map((r) => r.statusCode),
        [200, 200, 200, 200, 200],
      );
      assert.equal(responses[0]!.body, responses[4]!.body);
    } finally {
      await t.close();
    }
  });
});

describe('Swagger UI at /docs', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it("serves the page with Swagger UI's CSP, no caching and the API's other headers", async () => {
    for (const url of ['/docs', '/docs/']) {
      const page = await t.app.inject({ url });
      assert.equal(page.statusCode, 200, url);
      assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(page.headers['content-security-policy'], DOCS_CSP);
      assert.equal(page.headers['cache-control'], 'no-store');
      assert.equal(page.headers['x-content-type-options'], 'nosniff');
      assert.equal(page.headers['x-frame-options'], 'DENY');
      assert.equal(page.headers['referrer-policy'], 'no-referrer');
      assert.match(page.body, /<div id="swagger-ui">/);
    }
    // Its links name /docs/static/ from either URL.
    assert.match(
      (await t.app.inject({ url: '/docs' })).body,
      /href="\/docs\/static\/swagger-ui\.css"/,
    );
    assert.match(
      (await t.app.inject({ url: '/docs/' })).body,
      /href="\.\/static\/swagger-ui\.css"/,
    );
  });

  it('redirects /docs/static/index.html to /docs/', async () => {
    const response = await t.app.inject({ url: '/docs/static/index.html' });
    assert.equal(response.statusCode, 302);
    assert.equal(response.headers.location, '/docs/');
    assert.equal(response.headers['content-security-policy'], DOCS_CSP);
  });

  it('serves static assets with their content type, validators and a revalidate policy', async () => {
    const assets = {
      '/docs/static/swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
      '/docs/static/swagger-ui.css': 'text/css; charset=utf-8',
      '/docs/static/favicon-32x32.png': 'image/png',
      '/docs/static/swagger-initializer.js': 'application/javascript; charset=utf-8',
    };
    for (const [url, type] of Object.entries(assets)) {
      const asset = await t.app.inject({ url });
      assert.equal(asset.statusCode, 200, url);
      assert.equal(asset.headers['content-type'], type, url);
      assert.equal(asset.headers['content-security-policy'], DOCS_CSP, url);
      assert.equal(asset.headers['x-content-type-options'], 'nosniff', url);
      assert.ok(asset.rawPayload.length > 0, url);
    }
    const css = await t.app.inject({ url: '/docs/static/swagger-ui.css' });
    assert.equal(css.headers['cache-control'], 'public, max-age=0');
    assert.equal(css.headers['accept-ranges'], 'bytes');
    assert.match(String(css.headers.etag), /^W\/"/);
    assert.ok(css.headers['last-modified']);
    // The generated initializer is no file: it keeps the API's no-store.
    const init = await t.app.inject({ url: '/docs/static/swagger-initializer.js' });
    assert.equal(init.headers['cache-control'], 'no-store');

    const revalidated = await t.app.inject({
      url: '/docs/static/swagger-ui.css',
      headers: { 'if-none-match': String(css.headers.etag) },
    });
    assert.equal(revalidated.statusCode, 304);
    assert.equal(revalidated.rawPayload.length, 0);
    const range = await t.app.inject({
      url: '/docs/static/swagger-ui.css',
      headers: { range: 'bytes=0-9' },
    });
    assert.equal(range.statusCode, 206);
    assert.equal(range.headers['content-range'], `bytes 0-9/${css.rawPayload.length}`);
    assert.equal(range.body, css.body.slice(0, 10));
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    for (const url of ['/docs', '/docs/static/swagger-ui.css']) {
      const get = await t.app.inject({ url });
      const head = await t.app.inject({ method: 'HEAD', url });
      assert.equal(head.statusCode, 200, url);
      assert.equal(head.rawPayload.length, 0, url);
      const { date: _getDate, ...getHeaders } = get.headers;
      const { date: _headDate, ...headHeaders } = head.headers;
      assert.deepEqual(headHeaders, getHeaders, url);
    }
  });

  it("answers a missing asset and an unsatisfiable range in the API's error shape", async () => {
    const missing = await t.app.inject({ url: '/docs/static/no-such-file.js' });
    assert.ok(missing.statusCode >= 400 && missing.statusCode < 500, String(missing.statusCode));
    assert.equal(typeof missing.json<{ detail: unknown }>().detail, 'string');
    const range = await t.app.inject({
      url: '/docs/static/swagger-ui.css',
      headers: { range: 'bytes=99999999-' },
    });
    assert.equal(range.statusCode, 416);
    assert.deepEqual(range.json(), { detail: 'Range Not Satisfiable' });
    assert.equal(range.headers['cache-control'], 'no-store');
    const post = await t.app.inject({ method: 'POST', url: '/docs' });
    assert.equal(post.statusCode, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
  });

  it('serves the OpenAPI document at /docs/json as at /openapi.json, and as YAML', async () => {
    const openapi = await t.app.inject({ url: '/openapi.json' });
    const json = await t.app.inject({ url: '/docs/json' });
    assert.equal(json.statusCode, 200);
    assert.equal(json.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(json.body, openapi.body);
    const yaml = await t.app.inject({ url: '/docs/yaml' });
    assert.equal(yaml.statusCode, 200);
    assert.equal(yaml.headers['content-type'], 'application/x-yaml');
    assert.match(yaml.body, /^openapi: 3\.1\.0$/m);
  });
});
