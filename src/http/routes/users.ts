import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { toPublicUser } from '../public-user.ts';
import type { Services } from '../../services.ts';
import { principalOf } from '../authenticate.ts';
import { guard, securityFor } from '../authorize.ts';
import { clientInfo } from '../client-info.ts';
import { requireContentType } from '../content-type.ts';
import { ErrorSchema, PublicUserSchema } from '../schemas.ts';

const RegisterBody = Type.Object({
  email: Type.String({
    description: 'Unique, case-insensitively',
    examples: ['alice@example.com'],
  }),
  password: Type.String({ description: '8 to 128 characters; common passwords are refused' }),
});

/** POST /users/ (registration) and GET /users/me/ (the caller): API.md 1. */
export function userRoutes(services: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/users/',
      {
        preValidation: requireContentType('json'),
        schema: {
          operationId: 'registerUser',
          security: [],
          summary: 'Register a user',
          tags: ['users'],
          body: RegisterBody,
          response: { 200: PublicUserSchema, 400: ErrorSchema, 422: ErrorSchema },
        },
      },
      async (request) => {
        // Only email and password are read: `role` or any other field cannot be mass-assigned.
        const user = await services.registerUser({
          email: request.body.email,
          password: request.body.password,
          client: clientInfo(request),
        });
        return toPublicUser(user);
      },
    );

    app.get(
      '/users/me/',
      {
        // As in FastAPI's scopes tutorial, reading yourself takes `me`: a `scope=admin` token is
        // for the admin API only (an admin's id is its `sub`; GET /users/{id} reads it).
        ...guard(services, 'account:manage'),
        schema: {
          operationId: 'getCurrentUser',
          summary: 'The authenticated user',
          tags: ['users'],
          security: securityFor('account:manage'),
          response: { 200: PublicUserSchema, 401: ErrorSchema, 403: ErrorSchema },
        },
      },
      async (request) => toPublicUser(principalOf(request).user),
    );
  };
}
