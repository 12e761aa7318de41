import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { ConfigError, loadConfig } from '../../src/config/load-config.ts';
import { FORM, STRONG_PASSWORD, uniqueEmail } from '../support/client.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// API.md 4 and 6: POST /token and POST /users/ are limited per client IP and minute (0 = off);
// over the limit, 429 with Retry-After and a JSON detail. X-Forwarded-For counts only when the
// proxy is trusted. With GATEHOUSE_REDIS_URL, every instance shares the counters.

const FAST_HASHING = { GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1' };
const LIMITS = {
  ...FAST_HASHING,
  GATEHOUSE_RATE_LIMIT_TOKEN: '3',
  GATEHOUSE_RATE_LIMIT_REGISTER: '2',
};
const REDIS_URL = process.env.GATEHOUSE_TEST_REDIS_URL;

interface From {
  remoteAddress?: string;
  headers?: Record<string, string>;
}

/** A cheap POST /token (a form without fields: 422), so no hashing is involved. */
function tokenRequest(app: FastifyInstance, from: From = {}): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/token',
    remoteAddress: from.remoteAddress ?? '203.0.113.10',
    headers: { ...FORM, ...from.headers },
    payload: '',
  });
}

function registerRequest(app: FastifyInstance, from: From = {}): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/users/',
    remoteAddress: from.remoteAddress ?? '203.0.113.10',
    headers: from.headers,
    payload: { email: uniqueEmail('limited'), password: STRONG_PASSWORD },
  });
}

async function statuses(
  count: number,
  send: () => Promise<LightMyRequestResponse>,
): Promise<number[]> {
  const result: number[] = [];
  for (let i = 0; i < count; i++) result.push((await send()).statusCode);
  return result;
}

function assertRateLimited(response: LightMyRequestResponse): void {
  assert.equal(response.statusCode, 429, response.body);
  // POST /token's message names its budget (so a person knows what to wait for); the other
  // routes share one.
  const detail = response.raw.req.url?.startsWith('/token')
    ? 'Too many sign-in requests from this network; try again later'
    : 'Too many requests; try again later';
  // API.md 1 / RFC 6749 5.2: the errors of POST /token, and only those, carry these too.
  const oauth = response.raw.req.url?.startsWith('/token')
    ? { error: 'temporarily_unavailable', error_description: detail }
    : {};
  assert.deepEqual(response.json(), { detail, code: 'rate_limited', ...oauth });
  const retryAfter = Number(response.headers['retry-after']);
  assert.ok(
    Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60,
    `Retry-After: ${String(response.headers['retry-after'])}`,
  );
}

describe('per-IP rate limits', () => {
  let t: TestApp;
  afterEach(() => t?.close());

  it('answers 429 with Retry-After and a JSON detail past the POST /token limit', async () => {
    t = await createTestApp({ env: LIMITS });
    assert.deepEqual(await statuses(3, () => tokenRequest(t.app)), [422, 422, 422]);
    const over = await tokenRequest(t.app);
    assertRateLimited(over);
    assert.equal(over.headers['x-ratelimit-limit'], '3');
    assert.equal(over.headers['x-ratelimit-remaining'], '0');
  });

  it('answers 429 past the POST /users/ limit, before reading the body', async () => {
    t = await createTestApp({ env: LIMITS });
    assert.deepEqual(await statuses(2, () => registerRequest(t.app)), [200, 200]);
    assertRateLimited(await registerRequest(t.app));
    const garbage = await t.app.inject({
      method: 'POST',
      url: '/users',
      remoteAddress: '203.0.113.10',
      headers: { 'content-type': 'application/json' },
      payload: '{not json',
    });
    assertRateLimited(garbage);
  });

  it('limits the unauthenticated passkey options like POST /token (API.md 9)', async () => {
    t = await createTestApp({ env: LIMITS });
    for (const url of ['/webauthn/authentication/options', '/webauthn/mfa/options']) {
      const send = () =>
        t.app.inject({
          method: 'POST',
          url,
          remoteAddress: '203.0.113.10',
          payload: { mfa_token: 'unknown' },
        });
      const allowed = await statuses(3, send);
      assert.ok(
        allowed.every((s) => s !== 429),
        `${url}: ${allowed.join(',')}`,
      );
      assertRateLimited(await send());
    }
  });

  it('counts each client address on its own', async () => {
    t = await createTestApp({ env: LIMITS });
    await statuses(3, () => tokenRequest(t.app, { remoteAddress: '198.51.100.1' }));
    assertRateLimited(await tokenRequest(t.app, { remoteAddress: '198.51.100.1' }));
    assert.equal((await tokenRequest(t.app, { remoteAddress: '198.51.100.2' })).statusCode, 422);
  });

  it('keeps the two routes apart and leaves other routes unlimited', async () => {
    t = await createTestApp({ env: LIMITS });
    await statuses(4, () => tokenRequest(t.app));
    assert.equal((await registerRequest(t.app)).statusCode, 200);
    const health = await statuses(10, async () =>
      t.app.inject({ method: 'GET', url: '/healthz', remoteAddress: '203.0.113.10' }),
    );
    assert.ok(!health.includes(429), health.join(','));
  });

  it('limits nothing when the limits are 0', async () => {
    t = await createTestApp({
      env: { GATEHOUSE_RATE_LIMIT_TOKEN: '0', GATEHOUSE_RATE_LIMIT_REGISTER: '0' },
    });
    const seen = await statuses(40, () => tokenRequest(t.app));
    assert.deepEqual(new Set(seen), new Set([422]));
    assert.equal((await tokenRequest(t.app)).headers['x-ratelimit-limit'], undefined);
  });

  it('ignores X-Forwarded-For unless the proxy is trusted', async () => {
    t = await createTestApp({ env: LIMITS });
    const spoofed = (i: number) => ({ headers: { 'x-forwarded-for': `192.0.2.${i}` } });
    let next = 0;
    await statuses(3, async () => tokenRequest(t.app, spoofed(++next)));
    // A client can't escape its limit by inventing a new address per request.
    assertRateLimited(await tokenRequest(t.app, spoofed(251)));
  });

  it('counts the X-Forwarded-For client behind a trusted proxy', async () => {
    t = await createTestApp({ env: { ...LIMITS, GATEHOUSE_TRUST_PROXY: '127.0.0.1' } });
    const viaProxy = (client: string) => ({
      remoteAddress: '127.0.0.1',
      headers: { 'x-forwarded-for': client },
    });
    await statuses(3, () => tokenRequest(t.app, viaProxy('192.0.2.1')));
    assertRateLimited(await tokenRequest(t.app, viaProxy('192.0.2.1')));
    // Another client behind the same proxy has its own count.
    assert.equal((await tokenRequest(t.app, viaProxy('192.0.2.2'))).statusCode, 422);
    // An untrusted peer's header is not believed: it counts as itself.
    const direct = { remoteAddress: '198.51.100.9', headers: { 'x-forwarded-for': '192.0.2.3' } };
    await statuses(3, () => tokenRequest(t.app, direct));
    assertRateLimited(await tokenRequest(t.app, direct));
  });

  it('lets requests through (never a 500) when the shared Redis is unreachable', async () => {
    // Port 1 on loopback: nothing listens, connections are refused at once.
    t = await createTestApp({ env: { ...LIMITS, GATEHOUSE_REDIS_URL: 'redis://127.0.0.1:1' } });
    const seen = await statuses(6, () => tokenRequest(t.app));
    assert.deepEqual(seen, [422, 422, 422, 422, 422, 422]);
  });
});

describe(
  'per-IP rate limits shared through Redis',
  {
    skip: REDIS_URL ? false : 'set GATEHOUSE_TEST_REDIS_URL to run the Redis suites',
  },
  () => {
    let instances: TestApp[] = [];
    before(async () => {
      // A fresh key prefix: counters of earlier runs or other suites never leak in.
      const env = {
        ...LIMITS,
        GATEHOUSE_REDIS_URL: REDIS_URL ?? '',
        GATEHOUSE_REDIS_KEY_PREFIX: `gatehouse-test-${randomBytes(6).toString('hex')}:`,
      };
      instances = [await createTestApp({ env }), await createTestApp({ env })];
    });
    after(async () => {
      for (const instance of instances) await instance.close();
    });

    it('counts a client across every instance', async () => {
      const [a, b] = instances as [TestApp, TestApp];
      assert.deepEqual(await statuses(2, () => tokenRequest(a.app)), [422, 422]);
      assert.equal((await tokenRequest(b.app)).statusCode, 422);
      assertRateLimited(await tokenRequest(b.app));
      assertRateLimited(await tokenRequest(a.app));
      // POST /users/ has its own counter in Redis too.
      assert.equal((await registerRequest(b.app)).statusCode, 200);
    });
  },
);

describe('GATEHOUSE_TRUST_PROXY validation', () => {
  it('accepts true, false, addresses, CIDRs and proxy-addr keywords', () => {
    assert.equal(loadConfig({}).http.trustProxy, false);
    assert.equal(loadConfig({ GATEHOUSE_TRUST_PROXY: 'true' }).http.trustProxy, true);
    const list = '10.0.0.0/8, 192.168.1.7,::1,fd00::/8,loopback';
    assert.equal(loadConfig({ GATEHOUSE_TRUST_PROXY: list }).http.trustProxy, list);
  });

  it('refuses a hop count (which Fastify would silently ignore) and non-addresses', () => {
    for (const value of ['1', 'proxy.internal', '10.0.0.0/33', '10.0.0.1/8/2']) {
      assert.throws(
        () => loadConfig({ GATEHOUSE_TRUST_PROXY: value }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.problems.some((p) => p.startsWith('GATEHOUSE_TRUST_PROXY')),
        value,
      );
    }
  });
});
