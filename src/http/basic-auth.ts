import type { FastifyRequest } from 'fastify';
import { GatehouseError } from '../domain/errors.ts';

export interface ClientCredentials {
  clientId: string;
  secret: string;
}

// Generated ids and secrets encode to well under 200 characters; a longer header is nobody's.
const MAX_CREDENTIALS_LENGTH = 1024;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function invalidClient(): GatehouseError {
  return new GatehouseError('invalid_client', 'Client authentication failed');
}

/** RFC 6749 2.3.1: each half was application/x-www-form-urlencoded before base64. */
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replaceAll('+', ' '));
  } catch {
    throw invalidClient();
  }
}

/**
 * The HTTP Basic client credentials of the request (RFC 7617 2, RFC 6749 2.3.1), undefined
 * when there is no Authorization header or it names another scheme. A Basic header that does
 * not decode (bad base64, no colon, oversized, bad percent-encoding) is `invalid_client`,
 * never a 500.
 */
export function basicCredentials(request: FastifyRequest): ClientCredentials | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const space = header.indexOf(' ');
  const scheme = space === -1 ? header : header.slice(0, space);
  // RFC 7617 2: the scheme name is case-insensitive.
  if (scheme.toLowerCase() !== 'basic') return undefined;
  const encoded = space === -1 ? '' : header.slice(space + 1).trim();
  if (
    encoded.length > MAX_CREDENTIALS_LENGTH ||
    encoded.length % 4 !== 0 ||
    !BASE64.test(encoded)
  ) {
    throw invalidClient();
  }
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) throw invalidClient();
  return {
    clientId: formDecode(decoded.slice(0, colon)),
    secret: formDecode(decoded.slice(colon + 1)),
  };
}
