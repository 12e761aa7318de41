import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { toPublicApiClient } from '../../domain/clients/api-client.ts';
import type { Services } from '../../services.ts';
import { principalOf } from '../authenticate.ts';
import { guard, securityFor } from '../authorize.ts';
import { clientInfo } from '../client-info.ts';
import { requireContentType } from '../content-type.ts';
import { ErrorSchema, IdParams, NoContent } from '../schemas.ts';

const ApiClientSchema = Type.Object({
  id: Type.Integer(),
  client_id: Type.String({ description: 'The HTTP Basic user name for POST /introspect' }),
  name: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
});

const CreatedApiClient = Type.Object({
  ...ApiClientSchema.properties,
  client_secret: Type.String({
    description: 'Shown this once; only its SHA-256 is stored. Keep it like a password.',
  }),
});

// Unknown fields are refused (422), as on PATCH /users/{id}.
const CreateClientBody = Type.Object(
  { name: Type.String({ description: '1 to 100 characters, trimmed' }) },
  { additionalProperties: false },
);

/**
 * Registered API clients, the resource servers that may call POST /introspect (API.md 7).
 * Admin only: the admin role and the `admin` scope.
 */
export function clientRoutes(services: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    const guarded = guard(services, 'clients:manage');
    const secured = { tags: ['admin'], security: securityFor('clients:manage') };
    const denied = { 401: ErrorSchema, 403: ErrorSchema };

    app.get(
      '/clients',
      {
        ...guarded,
        schema: {
          operationId: 'listApiClients',
          ...secured,
          summary: 'List API clients (never their secrets)',
          response: { 200: Type.Object({ items: Type.Array(ApiClientSchema) }), ...denied },
        },
      },
      async () => ({ items: (await services.listApiClients()).map(toPublicApiClient) }),
    );

    app.post(
      '/clients',
      {
        ...guarded,
        preValidation: requireContentType('json'),
        schema: {
          operationId: 'createApiClient',
          ...secured,
          summary: 'Register an API client; its secret is returned this once',
          body: CreateClientBody,
          response: { 201: CreatedApiClient, ...denied, 422: ErrorSchema },
        },
      },
      async (request, reply) => {
        const { client, secret } = await services.createApiClient({
          actorId: principalOf(request).user.id,
          client: clientInfo(request),
          name: request.body.name,
        });
        // RFC 6749 5.1's rule for credentials in a response: never cached.
        reply.header('cache-control', 'no-store');
        return reply.code(201).send({ ...toPublicApiClient(client), client_secret: secret });
      },
    );

    app.delete(
      '/clients/:id',
      {
        ...guarded,
        schema: {
          operationId: 'deleteApiClient',
          ...secured,
          summary: 'Delete an API client: it can no longer introspect, at once',
          params: IdParams,
          response: { 204: NoContent, ...denied, 404: ErrorSchema, 422: ErrorSchema },
        },
      },
      async (request, reply) => {
        await services.deleteApiClient({
          actorId: principalOf(request).user.id,
          client: clientInfo(request),
          id: request.params.id,
        });
        return reply.code(204).send(null);
      },
    );
  };
}
