import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { User } from '../../src/domain/accounts/user.ts';
import type { TestApp } from './test-app.ts';

// THE test client: every HTTP test talks to Gatehouse through these helpers, over app.inject()
// (test/support/test-app.ts), instead of writing its own copy of a register, a login or a
// refresh. Helpers that return the response leave the status to the test; helpers that return
// tokens throw on anything but success, so a setup step that fails names itself.

/** The content type of POST /token, /revoke and /introspect (RFC 6749 4.3.2, RFC 7009 2.1). */
export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

export const STRONG_PASSWORD = 'correct horse battery staple';

let counter = 0;
/** A fresh address for each call, so tests never collide. */
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}@example.com`;
}

export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

/** The claims of a JWT, read without verifying (tests only). */
export function claimsOf(token: string): Record<string, unknown> {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  sid: string;
}

export function toPair(body: Record<string, unknown>): TokenPair {
  const accessToken = String(body.access_token);
  return {
    accessToken,
    refreshToken: String(body.refresh_token),
    sid: String(claimsOf(accessToken).sid),
  };
}

function expectStatus(response: LightMyRequestResponse, status: number, what: string): void {
  if (response.statusCode !== status)
    throw new Error(`${what} failed: ${response.statusCode} ${response.body}`);
}

/** `method url` with `accessToken` as the Bearer token and a JSON `payload`; the response as it is. */
export function requestAs(
  app: FastifyInstance,
  accessToken: string,
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  url: string,
  payload?: object,
) {
  return app.inject({ method, url, headers: bearer(accessToken), payload });
}

/** POST `url` with a form body (`payload` already encoded, or fields); the response as it is. */
export function postForm(
  app: FastifyInstance,
  url: string,
  payload: string | Record<string, string>,
  headers: Record<string, string> = {},
) {
  const body = typeof payload === 'string' ? payload : new URLSearchParams(payload).toString();
  return app.inject({ method: 'POST', url, headers: { ...FORM, ...headers }, payload: body });
}

/** POST /users/ (API.md 1); the response as it is. */
export function register(app: FastifyInstance, email = uniqueEmail(), password = STRONG_PASSWORD) {
  return app.inject({ method: 'POST', url: '/users/', payload: { email, password } });
}

/** POST /token with the password grant; `scope` is sent when given. The response as it is. */
export function requestToken(
  app: FastifyInstance,
  fields: { username: string; password?: string; scope?: string },
  headers: Record<string, string> = {},
) {
  const form = new URLSearchParams({
    username: fields.username,
    password: fields.password ?? STRONG_PASSWORD,
  });
  if (fields.scope !== undefined) form.set('scope', fields.scope);
  return app.inject({
    method: 'POST',
    url: '/token',
    headers: { ...FORM, ...headers },
    payload: form.toString(),
  });
}

/** Logs `email` in with the password grant; throws on anything but 200. */
export async function passwordLogin(
  app: FastifyInstance,
  email: string,
  password = STRONG_PASSWORD,
  headers: Record<string, string> = {},
): Promise<TokenPair> {
  const response = await requestToken(app, { username: email, password }, headers);
  expectStatus(response, 200, 'login');
  return toPair(response.json());
}

/** Registers a user and logs in over inject(); returns the token response body. */
export async function registerAndLogin(
  app: FastifyInstance,
  email = uniqueEmail(),
  password = STRONG_PASSWORD,
): Promise<{ email: string; accessToken: string; body: Record<string, unknown> }> {
  expectStatus(await register(app, email, password), 200, 'register');
  const login = await requestToken(app, { username: email, password });
  expectStatus(login, 200, 'login');
  const body = login.json() as Record<string, unknown>;
  return { email, accessToken: String(body.access_token), body };
}

/** A new user with two sessions of its own (besides the registration's login). */
export async function userWithTwoSessions(
  app: FastifyInstance,
): Promise<{ email: string; a: TokenPair; b: TokenPair }> {
  const { email } = await registerAndLogin(app);
  return { email, a: await passwordLogin(app, email), b: await passwordLogin(app, email) };
}

/** POST /token with the refresh_token grant (RFC 6749 6); the response as it is. */
export function refresh(app: FastifyInstance, refreshToken: string) {
  return postForm(app, '/token', { grant_type: 'refresh_token', refresh_token: refreshToken });
}

/** GET /users/me/; the response as it is. */
export function me(app: FastifyInstance, accessToken: string) {
  return requestAs(app, accessToken, 'GET', '/users/me/');
}

const LOGOUT_PATHS = { this: '/logout', all: '/logout/all', others: '/logout/others' } as const;

/**
 * POST /logout (this session), /logout/all (every session of the user) or /logout/others
 * (every session of the user but this one).
 */
export function logout(
  app: FastifyInstance,
  accessToken: string,
  which: keyof typeof LOGOUT_PATHS = 'this',
) {
  return requestAs(app, accessToken, 'POST', LOGOUT_PATHS[which]);
}

/** GET /users/me/sessions; the response as it is. */
export function listSessions(app: FastifyInstance, accessToken: string) {
  return requestAs(app, accessToken, 'GET', '/users/me/sessions');
}

// Admin helpers.

export interface LoggedIn {
  user: User;
  email: string;
  accessToken: string;
  refreshToken: string;
  scope: string;
}

/** Logs an existing user in; fails the test on anything but 200. */
export async function logIn(
  app: FastifyInstance,
  user: User,
  scope?: string,
  headers?: Record<string, string>,
): Promise<LoggedIn> {
  const response = await requestToken(app, { username: user.email, scope }, headers);
  expectStatus(response, 200, 'login');
  const body = response.json() as { access_token: string; refresh_token: string; scope: string };
  return {
    user,
    email: user.email,
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    scope: body.scope,
  };
}

/**
 * A user created the trusted way (as the CLI and the bootstrap settings do: the only ways to
 * get an admin), then logged in over HTTP.
 */
export async function createUser(
  t: TestApp,
  role: 'user' | 'admin' = 'user',
  email = uniqueEmail(role),
): Promise<LoggedIn> {
  const user = await t.services.registerUser({ email, password: STRONG_PASSWORD, role });
  return logIn(t.app, user);
}

/** PATCH /users/{id} as `admin` with `changes` (API.md 5); the response as it is. */
export function patchUser(
  app: FastifyInstance,
  admin: { accessToken: string },
  userId: number,
  changes: { role?: 'user' | 'admin'; disabled?: boolean },
) {
  return requestAs(app, admin.accessToken, 'PATCH', `/users/${userId}`, changes);
}

/** Makes `userId` an admin over HTTP, as `admin`; throws on anything but 200. */
export async function promote(
  app: FastifyInstance,
  admin: { accessToken: string },
  userId: number,
): Promise<void> {
  expectStatus(await patchUser(app, admin, userId, { role: 'admin' }), 200, 'promote');
}

/** GET /users?{query} as `admin`; the response as it is. */
export function listUsers(app: FastifyInstance, admin: { accessToken: string }, query = '') {
  return requestAs(app, admin.accessToken, 'GET', query ? `/users?${query}` : '/users');
}

/** GET /audit?{query} as `admin`; throws on anything but 200, else returns the page. */
export async function auditPage<Entry = Record<string, unknown>>(
  app: FastifyInstance,
  admin: { accessToken: string },
  query = '',
): Promise<{ items: Entry[]; next_cursor: string | null }> {
  const response = await requestAs(
    app,
    admin.accessToken,
    'GET',
    query ? `/audit?${query}` : '/audit',
  );
  expectStatus(response, 200, 'GET /audit');
  return response.json();
}

/** Inserts accounts straight into the store (no hashing), for tests that need many. */
export async function insertUsers(t: TestApp, emails: string[]): Promise<User[]> {
  const users: User[] = [];
  for (const email of emails) {
    users.push(
      await t.storage.users.create({
        email,
        passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$unused$unused',
        role: 'user',
        createdAt: t.clock.now(),
      }),
    );
  }
  return users;
}

// Over a real socket, for suites that run Gatehouse as a process (gatehouse-process.ts).

async function expectFetchStatus(response: Response, status: number, what: string): Promise<void> {
  if (response.status !== status)
    throw new Error(`${what} failed: ${response.status} ${await response.text()}`);
}

/** POST /users/ to the Gatehouse at `baseUrl`; throws on anything but 200. */
export async function registerAt(
  baseUrl: string,
  email: string,
  password = STRONG_PASSWORD,
): Promise<void> {
  const response = await fetch(`${baseUrl}/users/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  await expectFetchStatus(response, 200, 'register');
}

/** The password grant at `baseUrl`; throws on anything but 200, else the access token. */
export async function accessTokenAt(
  baseUrl: string,
  email: string,
  password = STRONG_PASSWORD,
): Promise<string> {
  const response = await fetch(`${baseUrl}/token`, {
    method: 'POST',
    body: new URLSearchParams({ username: email, password }),
  });
  await expectFetchStatus(response, 200, 'login');
  return ((await response.json()) as { access_token: string }).access_token;
}

/** POST /password-reset/confirm (API.md 8) with the mailed `token`; the response as it is. */
export function confirmPasswordReset(app: FastifyInstance, token: string, newPassword: string) {
  return app.inject({
    method: 'POST',
    url: '/password-reset/confirm',
    payload: { token, new_password: newPassword },
  });
}
