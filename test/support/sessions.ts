import type { FastifyInstance } from 'fastify';
import { bearer, FORM } from './admins.ts';
import { registerAndLogin, STRONG_PASSWORD } from './test-app.ts';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  sid: string;
}

/** The claims of a JWT, read without verifying (tests only). */
export function claimsOf(token: string): Record<string, unknown> {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export function toPair(body: Record<string, unknown>): TokenPair {
  const accessToken = String(body.access_token);
  return {
    accessToken,
    refreshToken: String(body.refresh_token),
    sid: String(claimsOf(accessToken).sid),
  };
}

export function refresh(app: FastifyInstance, refreshToken: string) {
  return app.inject({
    method: 'POST',
    url: '/token',
    headers: FORM,
    payload: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    }).toString(),
  });
}

export async function passwordLogin(
  app: FastifyInstance,
  email: string,
  password = STRONG_PASSWORD,
  headers: Record<string, string> = {},
): Promise<TokenPair> {
  const response = await app.inject({
    method: 'POST',
    url: '/token',
    headers: { ...FORM, ...headers },
    payload: new URLSearchParams({ username: email, password }).toString(),
  });
  if (response.statusCode !== 200)
    throw new Error(`login failed: ${response.statusCode} ${response.body}`);
  return toPair(response.json());
}

/** A new user with two sessions of its own (besides the registration's login). */
export async function userWithTwoSessions(
  app: FastifyInstance,
): Promise<{ email: string; a: TokenPair; b: TokenPair }> {
  const { email } = await registerAndLogin(app);
  return { email, a: await passwordLogin(app, email), b: await passwordLogin(app, email) };
}

export function me(app: FastifyInstance, accessToken: string) {
  return app.inject({ method: 'GET', url: '/users/me/', headers: bearer(accessToken) });
}
