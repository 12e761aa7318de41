import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest, preValidationAsyncHookHandler } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../../config/config.ts';
import { GatehouseError } from '../../domain/errors.ts';
import type { TokenTypeHint } from '../../domain/sessions/revoke-token.ts';
import type { Services } from '../../services.ts';
import { basicCredentials } from '../basic-auth.ts';
import { clientInfo } from '../client-info.ts';
import { requireContentType } from '../content-type.ts';
import { ErrorSchema } from '../schemas.ts';

// RFC 7009 2.1 / RFC 7662 2.1. Other parameters are ignored, as RFC 6749 3.2 asks.
const TokenForm = Type.Object({
  token: Type.Optional(Type.String({ description: 'The access token or refresh token' })),
  token_type_hint: Type.Optional(
    Type.String({
      description:
        '`access_token` or `refresh_token`: which kind to look up first. Any other value is ignored.',
    }),
  ),
});

const Introspection = Type.Object({
  active: Type.Boolean(),
  sub: Type.Optional(Type.String({ description: 'The user id' })),
  scope: Type.Optional(Type.String({ description: "The session's effective scope now" })),
  exp: Type.Optional(Type.Integer()),
  iat: Type.Optional(Type.Integer()),
  sid: Type.Optional(Type.String({ description: 'The session id' })),
  iss: Type.Optional(Type.String()),
  aud: Type.Optional(Type.String()),
  token_type: Type.Optional(Type.Literal('Bearer')),
  username: Type.Optional(Type.String({ description: "The user's email" })),
});

const EmptyBody = Type.Null({ description: 'Empty body (RFC 7009 2.2)' });

const OAUTH_ERRORS = {
  400: ErrorSchema,
  401: ErrorSchema,
  413: ErrorSchema,
  422: ErrorSchema,
  503: ErrorSchema,
};

/** RFC 6749 3.1: a parameter sent more than once is `invalid_request` (400), never a 500. */
const refuseRepeatedParameters: preValidationAsyncHookHandler = async (request) => {
  const body = request.body as Record<string, unknown> | null | undefined;
  for (const name of ['token', 'token_type_hint']) {
    if (Array.isArray(body?.[name])) {
      throw new GatehouseError('invalid_request', `Parameter ${name} was sent more than once`);
    }
  }
};

function requiredToken(token: string | undefined): string {
  if (token === undefined) {
    throw new GatehouseError('invalid_request', 'Missing required parameter: token');
  }
  return token;
}

/** RFC 7009 2.1: an unknown hint is ignored, not an error. */
function knownHint(hint: string | undefined): TokenTypeHint | undefined {
  return hint === 'access_token' || hint === 'refresh_token' ? hint : undefined;
}

function noStore(reply: FastifyReply): void {
  // RFC 7662 4 / RFC 6749 5.1: answers about tokens must not be cached.
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}

/**
 * POST /revoke (RFC 7009) and POST /introspect (RFC 7662): API.md 7. Both take the OAuth form
 * and answer errors in RFC 6749 5.2's shape.
 */
export function revokeIntrospectRoutes(
  services: Services,
  config: Config,
): FastifyPluginAsyncTypebox {
  // Runs onRequest, before the body is read or validated: a caller without valid credentials
  // learns nothing from validation errors. HTTP Basic only (RFC 6749 2.3.1, which every server
  // must support); credentials in the form body (client_secret_post) are not read.
  async function authenticateClient(request: FastifyRequest, required: boolean): Promise<void> {
    const credentials = basicCredentials(request);
    if (credentials === undefined) {
      if (required) throw new GatehouseError('invalid_client', 'Client authentication failed');
      return;
    }
    await services.authenticateApiClient(credentials.clientId, credentials.secret);
  }

  return async (app) => {
    const formRoute = {
      config: { oauthErrors: true },
      preValidation: [requireContentType('form'), refuseRepeatedParameters],
    };

    app.post(
      '/revoke',
      {
        ...formRoute,
        // Public clients (the web UI, apps) need no authentication (RFC 7009 2.1 allows it for
        // them); HTTP Basic credentials, when sent, must be a registered client's.
        onRequest: async (request) => authenticateClient(request, false),
        schema: {
          operationId: 'revokeToken',
          summary: 'Revoke a token (RFC 7009): ends the session it belongs to',
          description:
            "Form field `token` (an access token or a refresh token), optional `token_type_hint`. Ends the session the token belongs to, on every instance at once. 200 with an empty body also for an unknown, expired or malformed token. No client authentication needed; HTTP Basic credentials, if sent, must be a registered API client's.",
          tags: ['auth'],
          // OpenAPI 3.1 4.8.10: `{}` makes authentication optional.
          security: [{}, { ApiClientBasic: [] }],
          consumes: ['application/x-www-form-urlencoded'],
          body: TokenForm,
          // 429: rate limited per client IP like /token (GATEHOUSE_RATE_LIMIT_TOKEN).
          response: { 200: EmptyBody, ...OAUTH_ERRORS, 429: ErrorSchema },
        },
      },
      async (request, reply) => {
        noStore(reply);
        const { token, token_type_hint: hint } = request.body;
        await services.revokeToken(requiredToken(token), knownHint(hint), clientInfo(request));
        // A string bypasses the JSON serializer: the body is empty, not `null`.
        return reply.code(200).send('' as unknown as null);
      },
    );

    app.post(
      '/introspect',
      {
        ...formRoute,
        onRequest: async (request) => authenticateClient(request, true),
        schema: {
          operationId: 'introspectToken',
          summary: 'Introspect a token (RFC 7662), for resource servers',
          description:
            'HTTP Basic authentication with a registered API client (`gatehouse clients create`). Form field `token`. An access token whose session is live answers `active: true` with its claims; anything else (unknown, expired, revoked, a refresh token) `{"active":false}`.',
          tags: ['auth'],
          security: [{ ApiClientBasic: [] }],
          consumes: ['application/x-www-form-urlencoded'],
          body: TokenForm,
          response: { 200: Introspection, ...OAUTH_ERRORS },
        },
      },
      async (request, reply) => {
        noStore(reply);
        const result = await services.introspectToken(requiredToken(request.body.token));
        if (!result.active) return { active: false };
        return {
          active: true,
          sub: String(result.userId),
          scope: result.scope,
          exp: Math.floor(result.expiresAt.getTime() / 1000),
          iat: Math.floor(result.issuedAt.getTime() / 1000),
          sid: result.sessionId,
          iss: config.tokens.issuer,
          aud: config.tokens.audience,
          token_type: 'Bearer' as const,
          username: result.username,
        };
      },
    );
  };
}
