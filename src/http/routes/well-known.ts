import { MFA_OTP_GRANT, MFA_WEBAUTHN_GRANT, WEBAUTHN_GRANT } from './token.ts';
import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox';
import type { Config } from '../../config/config.ts';
import { publicBaseUrl } from '../../config/public-base-url.ts';
import { SCOPES_BY_ROLE } from '../../domain/authz/scopes.ts';
import type { Services } from '../../services.ts';
import { MALFORMED_REQUEST } from '../schemas.ts';

// Verifiers cache the JWKS this long. A rotation signs with the new key at once, so a verifier
// meets its kid before its cache expires; verifiers re-fetch on an unknown kid (jose's
// createRemoteJWKSet does, and so does gatehouse/resource-server), and this server publishes a
// new key within seconds on every instance (key-ring.ts). The bound matters only to verifiers
// that never re-fetch on an unknown kid: they catch up within 5 minutes. It is also how long a
// verifier may keep trusting a key after `gatehouse keys withdraw` (cli/key-commands.ts says so).
export const JWKS_MAX_AGE_SECONDS = 300;
// The metadata changes only when the configuration does (a restart).
const METADATA_MAX_AGE_SECONDS = 3600;

const Jwk = Type.Object(
  {
    kty: Type.String({ description: 'OKP (Ed25519), EC (P-256) or RSA' }),
    kid: Type.String(),
    alg: Type.String(),
    use: Type.Literal('sig'),
    crv: Type.Optional(Type.String()),
    x: Type.Optional(Type.String()),
    y: Type.Optional(Type.String()),
    n: Type.Optional(Type.String()),
    e: Type.Optional(Type.String()),
  },
  // The serializer sends only these members: a private one (`d`, `p`, `k`, ...) never leaves.
  { additionalProperties: false },
);

const Metadata = Type.Object({
  issuer: Type.String(),
  token_endpoint: Type.String(),
  jwks_uri: Type.String(),
  revocation_endpoint: Type.String(),
  introspection_endpoint: Type.String(),
  grant_types_supported: Type.Array(Type.String()),
  response_types_supported: Type.Array(Type.String()),
  scopes_supported: Type.Array(Type.String()),
  token_endpoint_auth_methods_supported: Type.Array(Type.String()),
  revocation_endpoint_auth_methods_supported: Type.Array(Type.String()),
  introspection_endpoint_auth_methods_supported: Type.Array(Type.String()),
  service_documentation: Type.String(),
});

/**
 * RFC 8414 authorization server metadata. `response_types_supported` is required by RFC 8414 2
 * but names authorization-endpoint response types; Gatehouse has no authorization endpoint (only
 * the password and refresh_token grants), so the list is empty. The token endpoint takes public
 * clients without client authentication (`none`); introspection needs an API client's Basic
 * credentials (API.md 7).
 */
function metadataOf(config: Config): Static<typeof Metadata> {
  const base = publicBaseUrl(config.http);
  return {
    issuer: config.tokens.issuer,
    token_endpoint: `${base}/token`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    revocation_endpoint: `${base}/revoke`,
    introspection_endpoint: `${base}/introspect`,
    grant_types_supported: [
      'password',
      'refresh_token',
      MFA_OTP_GRANT,
      WEBAUTHN_GRANT,
      MFA_WEBAUTHN_GRANT,
    ],
    response_types_supported: [],
    scopes_supported: [...new Set(Object.values(SCOPES_BY_ROLE).flat())],
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
    service_documentation: `${base}/docs`,
  };
}

/** GET /.well-known/jwks.json and /.well-known/oauth-authorization-server (API.md 7); no auth. */
export function wellKnownRoutes(services: Services, config: Config): FastifyPluginAsyncTypebox {
  const metadata = Object.freeze(metadataOf(config));
  return async (app) => {
    app.get(
      '/.well-known/jwks.json',
      {
        schema: {
          operationId: 'getJwks',
          security: [],
          summary: 'The public keys that verify access tokens (RFC 7517)',
          description: `No auth. The active signing key and each retired key until the tokens it signed have expired (a withdrawn key leaves within seconds); never a private or symmetric key (empty \`keys\` under HS256). Cacheable for ${JWKS_MAX_AGE_SECONDS} s; re-fetch when a token names an unknown \`kid\`.`,
          tags: ['keys'],
          response: { 200: Type.Object({ keys: Type.Array(Jwk) }), ...MALFORMED_REQUEST },
        },
      },
      async (_request, reply) => {
        // Public JWKs (key-material.ts publicJwkOf); the response schema drops any other member.
        const keys = (await services.signingKeys.publicJwks()) as Static<typeof Jwk>[];
        reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
        return { keys };
      },
    );

    app.get(
      '/.well-known/oauth-authorization-server',
      {
        schema: {
          operationId: 'getAuthorizationServerMetadata',
          security: [],
          summary: 'Authorization server metadata (RFC 8414)',
          description:
            'No auth. Absolute URLs built from GATEHOUSE_PUBLIC_URL (default http://HOST:PORT); `issuer` equals the `iss` of every token.',
          tags: ['keys'],
          response: { 200: Metadata, ...MALFORMED_REQUEST },
        },
      },
      async (_request, reply) => {
        reply.header('cache-control', `public, max-age=${METADATA_MAX_AGE_SECONDS}`);
        return metadata;
      },
    );
  };
}
