import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { FORM, STRONG_PASSWORD, uniqueEmail, requestToken } from '../support/client.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// API.md conventions: no request, however malformed, gets a 500 or kills the process; every
// error is JSON with a `detail`; a body that isn't valid JSON / form or has the wrong content
// type is a 422 with the detail list; JSON bodies over 16 KiB are a 413.

interface BadCase {
  name: string;
  request: InjectOptions;
  status: number;
  /** Further checks on the response, beyond status and a JSON `detail`. */
  check?: (response: LightMyRequestResponse) => void;
}

const JSON_TYPE = { 'content-type': 'application/json' };

const users = (payload: string | Buffer, headers: Record<string, string> = JSON_TYPE) =>
  ({ method: 'POST', url: '/users/', headers, payload }) as const;
const usersJson = (body: unknown) => users(JSON.stringify(body));
const token = (payload: string | Buffer, headers: Record<string, string> = FORM) =>
  ({ method: 'POST', url: '/token', headers, payload }) as const;
const me = (authorization: string) =>
  ({ method: 'GET', url: '/users/me/', headers: { authorization } }) as const;

const VALID_JSON = JSON.stringify({ email: 'valid@example.com', password: STRONG_PASSWORD });
const VALID_FORM = `username=valid%40example.com&password=${encodeURIComponent(STRONG_PASSWORD)}`;
const INVALID_UTF8 = Buffer.from([0xff, 0xfe, 0xc3, 0x28]);

/** A 422 whose detail list has an issue at `loc`. */
const issueAt =
  (...loc: string[]) =>
  (response: LightMyRequestResponse) => {
    const locs = (response.json().detail as { loc: unknown }[]).map((issue) => issue.loc);
    assert.ok(
      locs.some((l) => JSON.stringify(l) === JSON.stringify(loc)),
      `an issue at ${loc.join('.')}: ${response.body}`,
    );
  };

const detailIs = (detail: string, challenge?: string) => (response: LightMyRequestResponse) => {
  assert.equal(response.json().detail, detail);
  if (challenge !== undefined) assert.equal(response.headers['www-authenticate'], challenge);
};

const notFound = detailIs('Not Found');
const methodNotAllowed = (response: LightMyRequestResponse) => {
  detailIs('Method Not Allowed')(response);
  assert.ok(response.headers.allow, 'an Allow header');
};
const notAuthenticated = detailIs('Not authenticated', 'Bearer');
const couldNotValidate = detailIs('Could not validate credentials', 'Bearer');
const incorrectLogin = detailIs('Incorrect username or password', 'Bearer');

const row = (
  name: string,
  request: InjectOptions,
  status: number,
  check?: BadCase['check'],
): BadCase => ({ name, request, status, check });

const wrongTypes = [123, null, ['valid@example.com'], { value: 'x' }, true];
const withBytes = (before: string, after: string) =>
  Buffer.concat([Buffer.from(before), INVALID_UTF8, Buffer.from(after)]);
const unsupportedGrant = (response: LightMyRequestResponse) =>
  assert.equal(response.json().error, 'unsupported_grant_type');

const CASES: BadCase[] = [
  // Content type: as in FastAPI, 422 with the detail list, not 415.
  ...(
    [
      ['JSON sent as text/plain', users(VALID_JSON, { 'content-type': 'text/plain' })],
      ['JSON with no content type', users(Buffer.from(VALID_JSON), {})],
      ['an empty Content-Type header', users(VALID_JSON, { 'content-type': '' })],
      ['application/xml', users('<user/>', { 'content-type': 'application/xml' })],
      [
        'multipart to /users/',
        users('--x--\r\n', { 'content-type': 'multipart/form-data; boundary=x' }),
      ],
      ['a form body to /users/', users('email=a%40example.com&password=x', FORM)],
      ['a JSON body to /token', token(JSON.stringify({ username: 'a', password: 'b' }), JSON_TYPE)],
      ['a form to /token with no content type', token(Buffer.from(VALID_FORM), {})],
    ] as const
  ).map(([name, request]) => row(name, request, 422)),
  // Broken JSON and JSON that is not an object
  row('truncated JSON', users('{"email":'), 422),
  row('JSON with a trailing comma', users('{"email":"a@b.co","password":"x",}'), 422),
  row('single-quoted JSON', users("{'email':'a@b.co'}"), 422),
  row('an empty JSON body', users(''), 422),
  row(
    'a body shorter than its Content-Length',
    users(VALID_JSON, { ...JSON_TYPE, 'content-length': '5' }),
    422,
  ),
  ...['[]', 'null', '"a@b.co"', '42', 'true'].map((json) =>
    row(`the JSON ${json} instead of an object`, users(json), 422, issueAt('body')),
  ),
  // Fields of the wrong type: strict, as pydantic is (no coercion of 123 to "123")
  ...(['email', 'password'] as const).flatMap((field) =>
    wrongTypes.map((value) =>
      row(
        `${field} as ${JSON.stringify(value)}`,
        usersJson({ email: 'valid@example.com', password: STRONG_PASSWORD, [field]: value }),
        422,
        issueAt('body', field),
      ),
    ),
  ),
  row('a number too large for a double as email', users('{"email":1e999999,"password":"x"}'), 422),
  // Size and depth
  row('a JSON body over 16 KiB', usersJson({ email: 'a@b.co', password: 'x'.repeat(17_000) }), 413),
  row('a form body over 16 KiB', token(`${VALID_FORM}&pad=${'x'.repeat(17_000)}`), 413),
  row(
    'deeply nested arrays as email, within the size limit',
    users(`{"email":${'['.repeat(5000)}${']'.repeat(5000)},"password":"x"}`),
    422,
    issueAt('body', 'email'),
  ),
  row(
    'deeply nested objects as password, within the size limit',
    users(`{"email":"a@b.co","password":${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}}`),
    422,
    issueAt('body', 'password'),
  ),
  // Encoding: RFC 8259 8.1, JSON is UTF-8
  row(
    'invalid UTF-8 bytes in the email',
    users(withBytes('{"email":"a', `@example.com","password":"${STRONG_PASSWORD}"}`)),
    422,
  ),
  row(
    'invalid UTF-8 bytes in the password',
    users(withBytes(`{"email":"${uniqueEmail('utf8')}","password":"${STRONG_PASSWORD}`, '"}')),
    422,
  ),
  row(
    'a NUL byte in the email',
    usersJson({ email: 'a\u0000b@example.com', password: STRONG_PASSWORD }),
    422,
    issueAt('body', 'email'),
  ),
  row(
    'NUL bytes in the login form',
    token('username=a%00b%40b.co&password=x%00y'),
    401,
    incorrectLogin,
  ),
  // Prototype pollution
  row(
    'a __proto__ key in JSON',
    users(`{"__proto__":{"polluted":1},${VALID_JSON.slice(1)}`),
    422,
    issueAt('body'),
  ),
  row(
    'a constructor.prototype key in JSON',
    users(`{"constructor":{"prototype":{"polluted":1}},${VALID_JSON.slice(1)}`),
    422,
    issueAt('body'),
  ),
  row(
    '__proto__ and constructor[prototype] keys in a form',
    token(`__proto__[polluted]=1&constructor[prototype][polluted]=1&${VALID_FORM}`),
    401,
    incorrectLogin,
  ),
  // Form oddities
  row(
    'a duplicated username field',
    token('username=a&username=b&password=x'),
    422,
    issueAt('body', 'username'),
  ),
  row(
    'a duplicated password field',
    token('username=a&password=x&password=y'),
    422,
    issueAt('body', 'password'),
  ),
  row('an empty form', token(''), 422, issueAt('body', 'username')),
  row(
    'percent-encoding garbage in a form',
    token('username=%ZZ%&password=%E0%A4%A'),
    401,
    incorrectLogin,
  ),
  row(
    'raw invalid UTF-8 in a form',
    token(withBytes('username=a&password=', '')),
    401,
    incorrectLogin,
  ),
  row('separators only in a form', token('&&&===&username&password'), 401, incorrectLogin),
  // Emails the registration refuses
  ...(
    [
      ['a 300-character email', `${'a'.repeat(288)}@example.com`],
      ['a 65-character local part', `${'a'.repeat(65)}@example.com`],
      ['an email without @', 'no-at-sign.example.com'],
      ['an email of spaces', '   '],
      ['a non-ASCII email', 'ünïcødé@exämple.com'],
      ['a Kelvin sign that lower-cases to k', '\u212Aelvin@example.com'],
      ['a fullwidth @', 'a\uFF20example.com'],
    ] as const
  ).map(([name, email]) =>
    row(name, usersJson({ email, password: STRONG_PASSWORD }), 422, issueAt('body', 'email')),
  ),
  // Grants (RFC 6749 5.2)
  row(
    'an unknown grant_type',
    token(`grant_type=client_credentials&${VALID_FORM}`),
    400,
    unsupportedGrant,
  ),
  row('an empty grant_type', token(`grant_type=&${VALID_FORM}`), 400, unsupportedGrant),
  row(
    'a refresh grant without a refresh_token',
    token('grant_type=refresh_token'),
    422,
    issueAt('body', 'refresh_token'),
  ),
  // Methods and paths
  // RFC 9110 15.5.6: a known path with another method is 405 (method-not-allowed.test.ts).
  ...(
    [
      ['PUT', '/users/'],
      ['GET', '/token'],
      ['DELETE', '/token'],
      ['POST', '/users/me/'],
      ['PROPFIND', '/users/'],
    ] as const
  ).map(([method, url]) => row(`${method} ${url}`, { method, url }, 405, methodNotAllowed)),
  ...(
    [
      ['GET', '/no/such/path'],
      ['GET', '/users/me/../../etc/passwd'],
    ] as const
  ).map(([method, url]) => row(`${method} ${url}`, { method, url }, 404, notFound)),
  row('a malformed percent-encoding in the path', { method: 'GET', url: '/users/%E0%A4%A' }, 400),
  row(
    'a path parameter over 200 characters',
    { method: 'DELETE', url: `/users/me/sessions/${'a'.repeat(300)}` },
    414,
  ),
  row(
    'a malformed percent-encoding in the query',
    { method: 'GET', url: '/users/me/?%zz=%%' },
    401,
    notAuthenticated,
  ),
  // Authorization header oddities (RFC 6750 2.1; FastAPI's OAuth2PasswordBearer)
  ...(
    [
      ['an empty Authorization header', '', notAuthenticated],
      ['Basic credentials', 'Basic dXNlcjpwYXNzd29yZA==', notAuthenticated],
      ['a tab after the scheme', 'Bearer\tabc', notAuthenticated],
      ['"Bearer" with no token', 'Bearer', couldNotValidate],
      ['"Bearer  x y"', 'Bearer  x y', couldNotValidate],
      ['a 10 KB token', `Bearer ${'a'.repeat(10_240)}`, couldNotValidate],
      [
        'an unsigned alg:none token',
        'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.',
        couldNotValidate,
      ],
      ['Latin-1 bytes in the token', 'Bearer \u00ff\u00fe', couldNotValidate],
    ] as const
  ).map(([name, header, check]) => row(name, me(header), 401, check)),
];

describe('malformed requests get their exact 4xx, a JSON detail, and never a 500', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('covers at least 40 cases', () => {
    assert.ok(CASES.length >= 40, `${CASES.length} cases`);
  });

  for (const { name, request, status, check } of CASES) {
    it(`answers ${status} to ${name}`, async () => {
      const response = await t.app.inject(request);
      assert.equal(response.statusCode, status, `${name}: ${response.body}`);
      assert.match(String(response.headers['content-type']), /^application\/json/);
      const body = response.json() as Record<string, unknown>;
      assert.ok(body.detail !== undefined && body.detail !== '', `a detail: ${response.body}`);
      if (status === 422) {
        assert.ok(Array.isArray(body.detail), `422 has the detail list: ${response.body}`);
        for (const issue of body.detail as Record<string, unknown>[]) {
          assert.ok(Array.isArray(issue.loc) && issue.loc[0] === 'body', response.body);
          assert.equal(typeof issue.msg, 'string');
          assert.equal(typeof issue.type, 'string');
        }
      }
      check?.(response);
      assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
      const health = await t.app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(health.statusCode, 200, 'the server still answers');
    });
  }

  it('still takes a non-ASCII password sent as valid UTF-8, and logs in with it', async () => {
    const email = uniqueEmail('utf8-ok');
    const password = 'pässwörd ünïcødé 密码 🔑';
    const registered = await t.app.inject({
      method: 'POST',
      url: '/users/',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      payload: Buffer.from(JSON.stringify({ email, password }), 'utf8'),
    });
    assert.equal(registered.statusCode, 200, registered.body);
    const login = await requestToken(t.app, { username: email, password });
    assert.equal(login.statusCode, 200, login.body);
  });

  it('does not make an admin of a registration that asks for role "admin"', async () => {
    const email = uniqueEmail('wannabe-admin');
    const registered = await t.app.inject({
      method: 'POST',
      url: '/users/',
      payload: { email, password: STRONG_PASSWORD, role: 'admin', is_admin: true, scope: 'admin' },
    });
    assert.equal(registered.statusCode, 200, registered.body);
    assert.equal(registered.json().role, 'user');

    const login = await requestToken(t.app, { username: email, password: STRONG_PASSWORD });
    assert.equal(login.statusCode, 200, login.body);
    assert.doesNotMatch(String(login.json().scope), /\badmin\b/);
    const self = await t.app.inject({
      method: 'GET',
      url: '/users/me/',
      headers: { authorization: `Bearer ${login.json().access_token}` },
    });
    assert.equal(self.statusCode, 200, self.body);
    assert.equal(self.json().role, 'user');
  });
});
