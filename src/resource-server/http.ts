// What the Fastify plugin and the Express middleware share: reading the Bearer token and
// building the RFC 6750 answer. Neither framework is imported here.
import { ResourceServerError } from './errors.ts';
import type { AccessTokenClaims } from './verifier.ts';

export interface AuthOptions {
  /** RFC 6750 3: the `realm` of the WWW-Authenticate challenge. Default "gatehouse". */
  realm?: string;
  /**
   * true (default): a request without a token is refused with 401. false: it goes on with
   * `auth` null (a token that is sent must still be valid); `requireScope` refuses it.
   */
  required?: boolean;
}

export interface Refusal {
  status: 401 | 403 | 503;
  headers: Record<string, string>;
  body: { detail: string; code: string };
}

/**
 * RFC 6750 2.1: the token from `Authorization: Bearer <token>` (scheme case-insensitive), or
 * undefined when there is no such header. Tokens in the query string or body are never read
 * (RFC 6750 5.3: they end up in logs).
 */
export function bearerToken(authorization: string | string[] | undefined): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  const match = /^Bearer(?: +(.*))?$/i.exec(authorization.trim());
  if (!match) return undefined;
  return (match[1] ?? '').trim();
}

// RFC 6750 3: quoted-string values of the challenge exclude '"' and '\' (and control chars).
function quoted(value: string): string {
  return `"${value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '')}"`;
}

function challenge(realm: string, attributes: Record<string, string> = {}): string {
  const parts = [`realm=${quoted(realm)}`];
  for (const [name, value] of Object.entries(attributes)) parts.push(`${name}=${quoted(value)}`);
  return `Bearer ${parts.join(', ')}`;
}

/** The status, headers and `{"detail"}` body for a refused request. */
export function refusal(error: ResourceServerError, realm: string, scope?: string): Refusal {
  const body = { detail: error.message, code: error.code };
  switch (error.status) {
    case 503:
      // The token may be fine: Gatehouse is unreachable. No challenge, so clients do not
      // throw the token away; Retry-After says this is passing.
      return { status: 503, headers: { 'retry-after': '5' }, body };
    case 403:
      // RFC 6750 3.1: insufficient_scope, with the scope that would do.
      return {
        status: 403,
        headers: {
          'www-authenticate': challenge(realm, {
            error: 'insufficient_scope',
            error_description: error.message,
            ...(scope ? { scope } : {}),
          }),
        },
        body,
      };
    default:
      // RFC 6750 3.1: a request without a token gets no error attribute.
      return {
        status: 401,
        headers: {
          'www-authenticate':
            error.code === 'missing_token'
              ? challenge(realm)
              : challenge(realm, { error: 'invalid_token', error_description: error.message }),
        },
        body,
      };
  }
}

export function missingToken(): ResourceServerError {
  return new ResourceServerError('missing_token', 'Not authenticated');
}

/** Throws `insufficient_scope` (or `missing_token` when unauthenticated) unless every scope is granted. */
export function checkScopes(
  auth: AccessTokenClaims | null | undefined,
  scopes: readonly string[],
): void {
  if (!auth) throw missingToken();
  const lacking = scopes.filter((scope) => !auth.scope.includes(scope));
  if (lacking.length > 0) {
    throw new ResourceServerError('insufficient_scope', `This needs the scope ${scopes.join(' ')}`);
  }
}
