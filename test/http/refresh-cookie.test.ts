import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, STRONG_PASSWORD, uniqueEmail, type TestApp } from '../support/test-app.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const COOKIE_MODE = { ...FORM, 'x-gatehouse-refresh-cookie': '1' };

function cookieValue(setCookie: string | string[] | undefined): string {
  const header = Array.isArray(setCookie) ? setCookie[0] : setCookie;
  const match = /^gatehouse_refresh=([^;]*)/.exec(header ?? '');
  assert.ok(match, `a gatehouse_refresh cookie is set (got ${String(header)})`);
  return match[1]!;
}

describe('refresh-token cookie mode for browsers', () => {
  let t: TestApp;
  let email: string;
  before(async () => {
    t = await createTestApp();
    email = uniqueEmail('cookie');
    await t.app.inject({
      method: 'POST',
      url: '/users/',
      payload: { email, password: STRONG_PASSWORD },
    });
  });
  after(() => t.close());

  const login = () =>
    t.app.inject({
      method: 'POST',
      url: '/token',
      headers: COOKIE_MODE,
      payload: new URLSearchParams({ username: email, password: STRONG_PASSWORD }).toString(),
    });

  it('puts the refresh token in an HttpOnly, SameSite=Strict cookie scoped to /token, not in the body', async () => {
    const response = await login();
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.equal(typeof body.access_token, 'string');
    assert.equal(body.refresh_token, undefined);
    const header = String(response.headers['set-cookie']);
    assert.match(header, /HttpOnly/);
    assert.match(header, /SameSite=Strict/);
    assert.match(header, /Path=\/token(;|$)/);
    assert.doesNotMatch(header, /Secure/, 'plain HTTP here; Secure is added on HTTPS');
    assert.ok(cookieValue(response.headers['set-cookie']).length >= 43);
  });

  it('refreshes from the cookie, rotating it, when the request carries the cookie-mode header', async () => {
    const first = cookieValue((await login()).headers['set-cookie']);
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/token',
      headers: {
        ...COOKIE_MODE,
        cookie: `gatehouse_refresh=${first}`,
        origin: 'http://localhost:80',
      },
      payload: 'grant_type=refresh_token',
    });
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    const second = cookieValue(refreshed.headers['set-cookie']);
    assert.notEqual(second, first);
    assert.equal(refreshed.json().refresh_token, undefined);

    // The spent cookie is reuse: the session ends and the cookie is cleared.
    const replay = await t.app.inject({
      method: 'POST',
      url: '/token',
      headers: { ...COOKIE_MODE, cookie: `gatehouse_refresh=${first}` },
      payload: 'grant_type=refresh_token',
    });
    assert.equal(replay.statusCode, 400);
    assert.equal(replay.json().error, 'invalid_grant');
    assert.match(String(replay.headers['set-cookie']), /Max-Age=0/);
  });

  it('refuses a cookie refresh without the header or from another origin (CSRF)', async () => {
    const value = cookieValue((await login()).headers['set-cookie']);
    const noHeader = await t.app.inject({
      method: 'POST',
      url: '/token',
      headers: { ...FORM, cookie: `gatehouse_refresh=${value}` },
      payload: 'grant_type=refresh_token',
    });
    assert.equal(noHeader.statusCode, 422, 'without cookie mode the cookie is not read');

    const crossSite = await t.app.inject({
      method: 'POST',
      url: '/token',
      headers: {
        ...COOKIE_MODE,
        cookie: `gatehouse_refresh=${value}`,
        origin: 'https://evil.example',
      },
      payload: 'grant_type=refresh_token',
    });
    assert.equal(crossSite.statusCode, 400);
    assert.equal(crossSite.json().error, 'invalid_grant');
  });

  it('clears the cookie on logout', async () => {
    const response = await login();
    const logout = await t.app.inject({
      method: 'POST',
      url: '/logout',
      headers: { authorization: `Bearer ${String(response.json().access_token)}` },
    });
    assert.equal(logout.statusCode, 204);
    assert.match(
      String(logout.headers['set-cookie']),
      /^gatehouse_refresh=; Path=\/token; Max-Age=0/,
    );
  });
});
