import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { GatehouseError } from '../../domain/errors.ts';
import type { TokenGrant } from '../../domain/sessions/issue-tokens.ts';
import type { Services } from '../../services.ts';
import { clientInfo } from '../client-info.ts';
import { requireContentType } from '../content-type.ts';
import { ErrorSchema } from '../schemas.ts';
import { missingFields } from '../validation.ts';

// OAuth2PasswordRequestForm's fields (FastAPI), plus the refresh grant of RFC 6749 6.
const TokenForm = Type.Object({
  grant_type: Type.Optional(Type.String()),
  username: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
  scope: Type.Optional(Type.String()),
  refresh_token: Type.Optional(Type.String()),
  client_id: Type.Optional(Type.String()),
  client_secret: Type.Optional(Type.String()),
});

const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer(),
  refresh_token: Type.String(),
  scope: Type.String(),
});

function tokenResponse(grant: TokenGrant) {
  return {
    access_token: grant.accessToken,
    token_type: 'bearer' as const,
    expires_in: grant.expiresIn,
    refresh_token: grant.refreshToken,
    scope: grant.scope,
  };
}

/** POST /token: the OAuth2 token endpoint, password and refresh_token grants (API.md 1, 2). */
export function tokenRoutes(services: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/token',
      {
        preValidation: requireContentType('form'),
        schema: {
          summary: 'OAuth2 token endpoint: password and refresh_token grants',
          description:
            "Form fields of FastAPI's OAuth2PasswordRequestForm. `grant_type=refresh_token` with `refresh_token` rotates the refresh token.",
          tags: ['auth'],
          consumes: ['application/x-www-form-urlencoded'],
          body: TokenForm,
          response: { 200: TokenResponse, 400: ErrorSchema, 401: ErrorSchema, 422: ErrorSchema },
        },
      },
      async (request, reply) => {
        const form = request.body;
        // RFC 6749 5.1: token responses must not be cached.
        reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
        const grantType = form.grant_type ?? 'password';
        if (grantType === 'password') {
          const missing = (['username', 'password'] as const).filter((f) => form[f] === undefined);
          if (missing.length > 0) throw missingFields('body', missing);
          return tokenResponse(
            await services.passwordGrant({
              username: form.username ?? '',
              password: form.password ?? '',
              client: clientInfo(request),
            }),
          );
        }
        if (grantType === 'refresh_token') {
          if (form.refresh_token === undefined) throw missingFields('body', ['refresh_token']);
          return tokenResponse(await services.rotateRefreshToken(form.refresh_token));
        }
        throw new GatehouseError(
          'unsupported_grant_type',
          `Unsupported grant_type: ${grantType.slice(0, 40)}`,
        );
      },
    );
  };
}
