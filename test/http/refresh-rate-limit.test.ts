import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { FORM } from '../support/admins.ts';
import { createTestApp, STRONG_PASSWORD, uniqueEmail, type TestApp } from '../support/test-app.ts';

// A web UI spends one refresh grant per page load. Refresh grants have their own
// per-IP budget (GATEHOUSE_RATE_LIMIT_REFRESH), so reloads behind one address never lock out
// password logins from it, and the refresh budget itself still ends in a 429 (API.md 4).

const FAST_HASHING = { GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1' };
const OFFICE = '203.0.113.77';
const COOKIE_MODE = { ...FORM, 'x-gatehouse-refresh-cookie': '1' };
const REDIS_URL = process.env.GATEHOUSE_TEST_REDIS_URL;

function cookieOf(response: LightMyRequestResponse): string {
  // A refresh first clears the spent cookie, then sets the new one.
  const headers = [response.headers['set-cookie'] ?? []].flat();
  const values = headers.map((h) => /^gatehouse_refresh=([^;]+)/.exec(h)?.[1]).filter(Boolean);
  assert.ok(values.length > 0, `a refresh cookie is set: ${response.statusCode} ${response.body}`);
  return values.at(-1)!;
}

function passwordLogin(t: TestApp, email: string, password = STRONG_PASSWORD) {
  return t.app.inject({
    method: 'POST',
    url: '/token',
    remoteAddress: OFFICE,
    headers: COOKIE_MODE,
    payload: new URLSearchParams({ username: email, password }).toString(),
  });
}

/** What the web UI does on a page load: the refresh grant from the HttpOnly cookie. */
function reload(t: TestApp, cookie: string) {
  return t.app.inject({
    method: 'POST',
    url: '/token',
    remoteAddress: OFFICE,
    headers: {
      ...COOKIE_MODE,
      cookie: `gatehouse_refresh=${cookie}`,
      origin: 'http://localhost:80',
    },
    payload: 'grant_type=refresh_token',
  });
}

async function registered(t: TestApp): Promise<string> {
  const email = uniqueEmail('reload');
  await t.services.registerUser({ email, password: STRONG_PASSWORD });
  return email;
}

function assertRefreshLimited(response: LightMyRequestResponse): void {
  assert.equal(response.statusCode, 429, response.body);
  const detail = 'Too many session refreshes from this network; try again later';
  assert.deepEqual(response.json(), {
    detail,
    code: 'rate_limited',
    error: 'temporarily_unavailable',
    error_description: detail,
  });
  const retryAfter = Number(response.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60);
}

/** Twenty reloads, each rotating the cookie, then a password login: all from one address. */
async function twentyReloadsThenLogin(t: TestApp, email: string): Promise<void> {
  let cookie = cookieOf(await passwordLogin(t, email));
  for (let i = 0; i < 20; i++) {
    const response = await reload(t, cookie);
    assert.equal(response.statusCode, 200, `reload ${i + 1}: ${response.body}`);
    cookie = cookieOf(response);
  }
  const login = await passwordLogin(t, email);
  assert.equal(login.statusCode, 200, login.body);
}

describe('the refresh grant has its own per-IP budget', () => {
  let t: TestApp;
  afterEach(() => t?.close());

  it('lets twenty reloads in a minute pass without spending the password-login limit', async () => {
    t = await createTestApp({
      env: { ...FAST_HASHING, GATEHOUSE_RATE_LIMIT_TOKEN: '3', GATEHOUSE_RATE_LIMIT_REFRESH: '30' },
    });
    await twentyReloadsThenLogin(t, await registered(t));
  });

  it('answers 429 with Retry-After and a JSON detail past the refresh budget; logins still work', async () => {
    t = await createTestApp({
      env: { ...FAST_HASHING, GATEHOUSE_RATE_LIMIT_TOKEN: '5', GATEHOUSE_RATE_LIMIT_REFRESH: '2' },
    });
    const email = await registered(t);
    let cookie = cookieOf(await passwordLogin(t, email));
    for (let i = 0; i < 2; i++) cookie = cookieOf(await reload(t, cookie));
    const limited = await reload(t, cookie);
    assertRefreshLimited(limited);
    // Refused before the grant ran: the cookie was neither spent nor cleared.
    assert.equal(limited.headers['set-cookie'], undefined);
    assert.equal((await passwordLogin(t, email)).statusCode, 200);
    // Another address has a budget of its own.
    const elsewhere = await t.app.inject({
      method: 'POST',
      url: '/token',
      remoteAddress: '198.51.100.3',
      headers: {
        ...COOKIE_MODE,
        cookie: `gatehouse_refresh=${cookie}`,
        origin: 'http://localhost:80',
      },
      payload: 'grant_type=refresh_token',
    });
    assert.equal(elsewhere.statusCode, 200, elsewhere.body);
  });

  it('still limits password grants on their own budget, with a message naming it', async () => {
    t = await createTestApp({
      env: { ...FAST_HASHING, GATEHOUSE_RATE_LIMIT_TOKEN: '2', GATEHOUSE_RATE_LIMIT_REFRESH: '50' },
    });
    const email = await registered(t);
    await passwordLogin(t, email, 'wrong password 1');
    await passwordLogin(t, email, 'wrong password 2');
    const limited = await passwordLogin(t, email);
    assert.equal(limited.statusCode, 429);
    assert.equal(
      limited.json().detail,
      'Too many sign-in requests from this network; try again later',
    );
    assert.equal(limited.json().code, 'rate_limited');
  });

  it('counts no refresh grant when GATEHOUSE_RATE_LIMIT_REFRESH is 0', async () => {
    t = await createTestApp({
      env: { ...FAST_HASHING, GATEHOUSE_RATE_LIMIT_TOKEN: '1', GATEHOUSE_RATE_LIMIT_REFRESH: '0' },
    });
    const email = await registered(t);
    let cookie = cookieOf(await passwordLogin(t, email));
    for (let i = 0; i < 5; i++) {
      const response = await reload(t, cookie);
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.headers['x-ratelimit-limit'], undefined);
      cookie = cookieOf(response);
    }
  });
});

describe(
  'the refresh budget shared through Redis',
  { skip: REDIS_URL ? false : 'set GATEHOUSE_TEST_REDIS_URL to run the Redis suites' },
  () => {
    let instances: TestApp[] = [];
    before(async () => {
      const env = {
        ...FAST_HASHING,
        GATEHOUSE_RATE_LIMIT_TOKEN: '3',
        GATEHOUSE_RATE_LIMIT_REFRESH: '22',
        GATEHOUSE_REDIS_URL: REDIS_URL ?? '',
        GATEHOUSE_REDIS_KEY_PREFIX: `gatehouse-test-${randomBytes(6).toString('hex')}:`,
      };
      instances = [await createTestApp({ env })];
    });
    after(async () => {
      for (const instance of instances) await instance.close();
    });

    it('lets twenty reloads pass without locking out logins, then limits the refreshes', async () => {
      const [t] = instances as [TestApp];
      const email = await registered(t);
      let cookie = cookieOf(await passwordLogin(t, email));
      for (let i = 0; i < 20; i++) cookie = cookieOf(await reload(t, cookie));
      assert.equal((await passwordLogin(t, email)).statusCode, 200);
      cookie = cookieOf(await reload(t, cookie));
      cookie = cookieOf(await reload(t, cookie));
      assertRefreshLimited(await reload(t, cookie));
      // The password budget (3: two logins so far) is still separate.
      assert.equal((await passwordLogin(t, email)).statusCode, 200);
    });
  },
);
