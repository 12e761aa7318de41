import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { GatehouseError } from '../../domain/errors.ts';
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
  scope: Type.String(),
});

/** POST /token: the OAuth2 token endpoint (API.md 1, 2). */
export function tokenRoutes(services: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/token',
      {
        preValidation: requireContentType('form'),
        schema: {
          summary: 'OAuth2 token endpoint (password grant)',
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
        if (grantType !== 'password') {
          throw new GatehouseError(
            'unsupported_grant_type',
            `Unsupported grant_type: ${grantType.slice(0, 40)}`,
          );
        }
        const missing = (['username', 'password'] as const).filter((f) => form[f] === undefined);
        if (missing.length > 0) throw missingFields('body', missing);
        const grant = await services.passwordGrant({
          username: form.username ?? '',
          password: form.password ?? '',
          client: clientInfo(request),
        });
        return {
          access_token: grant.accessToken,
          token_type: 'bearer' as const,
          expires_in: grant.expiresIn,
          scope: grant.scope,
        };
      },
    );
  };
}
