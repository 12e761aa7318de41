import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  bearer,
  FORM,
  logout as logOut,
  register,
  requestToken,
  uniqueEmail,
} from '../support/client.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

const COOKIE_MODE = { ...FORM, 'x-gatehouse-refresh-cookie': '1' };

/** An app with `env` and one registered user (`label` names the address). */
async function appWithUser(
  label: string,
  env: Record<string, string> = {},
): Promise<{ t: TestApp; email: string }> {
  const t = await createTestApp({ env });
  const email = uniqueEmail(label);
  await register(t.app, email);
  return { t, email };
}

/** The password grant of `email` in cookie mode, with `headers` added. */
function cookieLogin(t: TestApp, email: string, headers: Record<string, string> = {}) {
  return requestToken(t.app, { username: email }, { ...COOKIE_MODE, ...headers });
}

/** POST /token with the refresh grant whose token is the cookie `value`; `headers` added. */
function cookieRefresh(
  t: TestApp,
  value: string,
  headers: Record<string, string> = {},
  mode: Record<string, string> = COOKIE_MODE,
) {
  return t.app.inject({
    method: 'POST',
    url: '/token',
    headers: { ...mode, cookie: `gatehouse_refresh=${value}`, ...headers },
    payload: 'grant_type=refresh_token',
  });
}

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
    ({ t, email } = await appWithUser('cookie'));
  });
  after(() => t.close());

  const login = () => cookieLogin(t, email);

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
    const refreshed = await cookieRefresh(t, first, { origin: 'http://localhost:80' });
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    const second = cookieValue(refreshed.headers['set-cookie']);
    assert.notEqual(second, first);
    assert.equal(refreshed.json().refresh_token, undefined);

    // The spent cookie is reuse: the session ends and the cookie is cleared.
    const replay = await cookieRefresh(t, first);
    assert.equal(replay.statusCode, 400);
    assert.equal(replay.json().error, 'invalid_grant');
    assert.match(String(replay.headers['set-cookie']), /Max-Age=0/);
  });

  it('refuses a cookie refresh without the header or from another origin (CSRF)', async () => {
    const value = cookieValue((await login()).headers['set-cookie']);
    const noHeader = await cookieRefresh(t, value, {}, FORM);
    assert.equal(noHeader.statusCode, 422, 'without cookie mode the cookie is not read');

    const crossSite = await cookieRefresh(t, value, { origin: 'https://evil.example' });
    assert.equal(crossSite.statusCode, 400);
    assert.equal(crossSite.json().error, 'invalid_grant');
  });

  it('tells the operator to set GATEHOUSE_TRUST_PROXY when a TLS-terminating proxy hides https', async () => {
    const value = cookieValue((await login()).headers['set-cookie']);
    // The proxy speaks https to the browser and http to us, and we don't trust its headers.
    const behindProxy = await cookieRefresh(t, value, {
      host: 'auth.example.com',
      origin: 'https://auth.example.com',
      'x-forwarded-proto': 'https',
    });
    assert.equal(behindProxy.statusCode, 400);
    assert.equal(behindProxy.json().error, 'invalid_grant');
    assert.match(behindProxy.json().detail, /^Cross-site refresh refused/);
    assert.match(behindProxy.json().detail, /GATEHOUSE_TRUST_PROXY/);
    assert.match(behindProxy.json().detail, /GATEHOUSE_PUBLIC_URL/);
    // A page of another site gets no configuration advice.
    const crossSite = await cookieRefresh(t, value, { origin: 'https://evil.example' });
    assert.equal(crossSite.json().detail, 'Cross-site refresh refused');
  });

  it('clears the cookie on logout', async () => {
    const response = await login();
    const logout = await logOut(t.app, String(response.json().access_token));
    assert.equal(logout.statusCode, 204);
    assert.match(
      String(logout.headers['set-cookie']),
      /^gatehouse_refresh=; Path=\/token; Max-Age=0/,
    );
  });

  it('keeps the cookie on logout/others: this session stays signed in', async () => {
    const response = await login();
    const ended = await t.app.inject({
      method: 'POST',
      url: '/logout/others',
      headers: bearer(String(response.json().access_token)),
    });
    assert.equal(ended.statusCode, 204);
    assert.equal(ended.headers['set-cookie'], undefined);
    const refreshed = await cookieRefresh(t, cookieValue(response.headers['set-cookie']));
    assert.equal(refreshed.statusCode, 200, refreshed.body);
  });
});

describe('refresh-token cookie mode behind a TLS-terminating proxy', () => {
  let t: TestApp;
  let email: string;
  before(async () => {
    ({ t, email } = await appWithUser('public-url', {
      GATEHOUSE_PUBLIC_URL: 'https://auth.example.com',
    }));
  });
  after(() => t.close());

  // What the proxy forwards: plain http, its own Host, no X-Forwarded-* we would trust.
  const fromProxy = { host: '127.0.0.1:8000' };
  const refreshFrom = (origin: string, value: string) =>
    cookieRefresh(t, value, { ...fromProxy, origin });

  it('marks the cookie Secure when GATEHOUSE_PUBLIC_URL is https, though the request came over http', async () => {
    const response = await cookieLogin(t, email, fromProxy);
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['set-cookie']), /; Secure(;|$)/);
    const logout = await t.app.inject({
      method: 'POST',
      url: '/logout',
      headers: { ...fromProxy, ...bearer(String(response.json().access_token)) },
    });
    assert.match(String(logout.headers['set-cookie']), /Max-Age=0.*; Secure/);
  });

  it('accepts a refresh from the public origin and refuses every other, the request’s own included', async () => {
    const login = await cookieLogin(t, email, fromProxy);
    const value = cookieValue(login.headers['set-cookie']);
    for (const origin of [
      'http://127.0.0.1:8000',
      'http://auth.example.com',
      'https://evil.example',
    ]) {
      const refused = await refreshFrom(origin, value);
      assert.equal(refused.statusCode, 400, origin);
      assert.equal(refused.json().error, 'invalid_grant');
    }
    const refreshed = await refreshFrom('https://auth.example.com', value);
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    assert.match(String(refreshed.headers['set-cookie']), /; Secure(;|$)/);
    assert.notEqual(cookieValue(refreshed.headers['set-cookie']), value);
  });
});

describe('refresh-token cookie mode behind a trusted proxy (GATEHOUSE_TRUST_PROXY)', () => {
  let t: TestApp;
  let email: string;
  before(async () => {
    // inject() comes from 127.0.0.1: the "proxy" is on loopback.
    ({ t, email } = await appWithUser('trusted-proxy', { GATEHOUSE_TRUST_PROXY: 'loopback' }));
  });
  after(() => t.close());

  const viaProxy = (headers: Record<string, string>) =>
    cookieLogin(t, email, { host: 'auth.example.com', ...headers });

  it('takes https from X-Forwarded-Proto: Secure cookie, and the https page may refresh', async () => {
    const login = await viaProxy({ 'x-forwarded-proto': 'https' });
    assert.match(String(login.headers['set-cookie']), /; Secure(;|$)/);
    const refreshed = await cookieRefresh(t, cookieValue(login.headers['set-cookie']), {
      host: 'auth.example.com',
      'x-forwarded-proto': 'https',
      origin: 'https://auth.example.com',
    });
    assert.equal(refreshed.statusCode, 200, refreshed.body);
  });

  it('names X-Forwarded-Proto and GATEHOUSE_PUBLIC_URL when the trusted proxy does not send it', async () => {
    const login = await viaProxy({});
    const refused = await cookieRefresh(t, cookieValue(login.headers['set-cookie']), {
      host: 'auth.example.com',
      origin: 'https://auth.example.com',
    });
    assert.equal(refused.statusCode, 400);
    assert.match(refused.json().detail, /X-Forwarded-Proto.*GATEHOUSE_PUBLIC_URL/);
  });
});
