import { ResourceServerError } from './errors.ts';

/** The fields of Gatehouse's RFC 8414 metadata this SDK uses. */
export interface AuthorizationServerMetadata {
  issuer: string;
  jwksUri: URL;
  introspectionEndpoint: URL | undefined;
}

// Metadata is a few hundred bytes; a far larger answer is not Gatehouse's.
const MAX_METADATA_BYTES = 64 * 1024;

function failed(issuer: string, why: string, cause?: unknown): ResourceServerError {
  return new ResourceServerError(
    'discovery_failed',
    `Could not read the authorization server metadata of ${issuer}: ${why}`,
    { cause },
  );
}

function absoluteUrl(value: unknown): URL | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * RFC 8414 3: the metadata URL is the issuer with /.well-known/oauth-authorization-server
 * inserted after the host (between host and path when the issuer has a path).
 */
export function metadataUrl(issuer: string): URL {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return new URL(`${url.origin}/.well-known/oauth-authorization-server${path}`);
}

/** Fetches and checks the metadata; every failure is a `discovery_failed` error. */
export async function discover(
  issuer: string,
  timeoutMs: number,
): Promise<AuthorizationServerMetadata> {
  let body: unknown;
  try {
    const response = await fetch(metadataUrl(issuer), {
      headers: { accept: 'application/json' },
      // A redirect could lead anywhere; the metadata is at its one well-known place.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status !== 200) throw failed(issuer, `HTTP ${response.status}`);
    const text = await response.text();
    if (text.length > MAX_METADATA_BYTES) throw failed(issuer, 'the answer is too large');
    body = JSON.parse(text);
  } catch (error) {
    if (error instanceof ResourceServerError) throw error;
    const why = error instanceof SyntaxError ? 'the answer is not JSON' : 'the request failed';
    throw failed(issuer, why, error);
  }
  if (typeof body !== 'object' || body === null)
    throw failed(issuer, 'the answer is not an object');
  const fields = body as Record<string, unknown>;
  // RFC 8414 3.3: the issuer in the metadata must be identical to the one we were configured
  // with, or an attacker who controls the answer could make us trust their keys.
  if (fields.issuer !== issuer) {
    throw failed(
      issuer,
      `it names another issuer (${JSON.stringify(fields.issuer)?.slice(0, 200)})`,
    );
  }
  const jwksUri = absoluteUrl(fields.jwks_uri);
  if (!jwksUri) throw failed(issuer, 'it has no valid jwks_uri');
  return {
    issuer,
    jwksUri,
    introspectionEndpoint: absoluteUrl(fields.introspection_endpoint),
  };
}
