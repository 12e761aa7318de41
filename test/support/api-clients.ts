import type { FastifyInstance } from 'fastify';
import { FORM } from './admins.ts';
import type { TestApp } from './test-app.ts';

export interface RegisteredClient {
  id: number;
  clientId: string;
  secret: string;
  /** The Authorization header of RFC 6749 2.3.1 (each half form-encoded, then base64). */
  authorization: string;
}

export function basicAuthorization(clientId: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replaceAll('%20', '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

/** Registers an API client through the services (as the CLI does). */
export async function registerClient(
  t: TestApp,
  name = 'resource server',
): Promise<RegisteredClient> {
  const { client, secret } = await t.services.createApiClient({ actorId: null, name });
  return {
    id: client.id,
    clientId: client.clientId,
    secret,
    authorization: basicAuthorization(client.clientId, secret),
  };
}

/** POST /introspect with `token` and whatever headers are given (no credentials by default). */
export function introspect(
  app: FastifyInstance,
  token: string,
  headers: Record<string, string> = {},
  extra: Record<string, string> = {},
) {
  return app.inject({
    method: 'POST',
    url: '/introspect',
    headers: { ...FORM, ...headers },
    payload: new URLSearchParams({ token, ...extra }).toString(),
  });
}

/** POST /revoke with `token` and, when given, `token_type_hint`. */
export function revoke(
  app: FastifyInstance,
  token: string,
  hint?: string,
  headers: Record<string, string> = {},
) {
  const form = new URLSearchParams({ token });
  if (hint !== undefined) form.set('token_type_hint', hint);
  return app.inject({
    method: 'POST',
    url: '/revoke',
    headers: { ...FORM, ...headers },
    payload: form.toString(),
  });
}
