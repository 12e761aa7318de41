import type { FastifyInstance } from 'fastify';
import type { User } from '../../src/domain/accounts/user.ts';
import { STRONG_PASSWORD, uniqueEmail, type TestApp } from './test-app.ts';

export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

/** POST /token with the password grant; `scope` is sent when given. */
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
  if (response.statusCode !== 200) {
    throw new Error(`login failed: ${response.statusCode} ${response.body}`);
  }
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
