import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { toPublicUser } from '../public-user.ts';
import type { Services } from '../../services.ts';
import { answerAdminUserAction } from '../admin-user-action.ts';
import { principalOf } from '../authenticate.ts';
import { guard, securityFor } from '../authorize.ts';
import { clientInfo } from '../client-info.ts';
import { requireContentType } from '../content-type.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { ErrorSchema, IdParams, NoContent, PublicUserSchema } from '../schemas.ts';

const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  cursor: Type.Optional(
    Type.String({ maxLength: 512, description: 'next_cursor of the last page' }),
  ),
  email_prefix: Type.Optional(
    Type.String({ maxLength: 254, description: 'Case-insensitive prefix of the email' }),
  ),
});

const UserPage = Type.Object({
  items: Type.Array(PublicUserSchema),
  next_cursor: Type.Union([Type.String(), Type.Null()], {
    description: 'Pass as `cursor` for the next page; null on the last page',
  }),
  total: Type.Integer({ description: 'How many users match `email_prefix`, on every page' }),
});

// Unknown fields are refused (422): a typo such as `"disable": true` must not pass silently
// as a no-op on an admin action. Absent fields stay as they are.
const PatchUserBody = Type.Object(
  {
    role: Type.Optional(Type.Enum(['user', 'admin'])),
    disabled: Type.Optional(
      Type.Boolean({ description: 'true ends every session of the user at once' }),
    ),
  },
  { additionalProperties: false },
);

const USERS_CURSOR = 'users';

/** The admin API over users: API.md 3. Every route needs the admin role and the `admin` scope. */
export function adminRoutes(services: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    const guarded = guard(services, 'users:manage');
    const secured = { tags: ['admin'], security: securityFor('users:manage') };
    const denied = { 401: ErrorSchema, 403: ErrorSchema };

    app.get(
      '/users/',
      {
        ...guarded,
        schema: {
          operationId: 'listUsers',
          ...secured,
          summary: 'List users by id, a page at a time',
          querystring: ListQuery,
          response: { 200: UserPage, ...denied, 422: ErrorSchema },
        },
      },
      async (request) => {
        const { limit = 50, cursor, email_prefix: emailPrefix } = request.query;
        const [page, total] = await Promise.all([
          services.listUsers({
            limit,
            afterId: cursor === undefined ? undefined : decodeCursor(USERS_CURSOR, cursor),
            emailPrefix,
          }),
          services.countUsers({ emailPrefix }),
        ]);
        return {
          total,
          items: page.items.map(toPublicUser),
          next_cursor:
            page.nextAfterId === undefined ? null : encodeCursor(USERS_CURSOR, page.nextAfterId),
        };
      },
    );

    app.get(
      '/users/:id',
      {
        ...guarded,
        schema: {
          operationId: 'getUser',
          ...secured,
          summary: 'One user',
          params: IdParams,
          response: { 200: PublicUserSchema, ...denied, 404: ErrorSchema, 422: ErrorSchema },
        },
      },
      async (request) => toPublicUser(await services.getUser(request.params.id)),
    );

    app.patch(
      '/users/:id',
      {
        ...guarded,
        preValidation: requireContentType('json'),
        schema: {
          operationId: 'updateUser',
          ...secured,
          summary: 'Change the role or disabled state of a user',
          description:
            'Demoting or disabling the last active admin is refused with 409. Disabling ends every session of the user.',
          params: IdParams,
          body: PatchUserBody,
          response: {
            200: PublicUserSchema,
            ...denied,
            404: ErrorSchema,
            409: ErrorSchema,
            422: ErrorSchema,
          },
        },
      },
      async (request) => {
        const user = await services.changeUserAccess({
          actorId: principalOf(request).user.id,
          client: clientInfo(request),
          userId: request.params.id,
          // Named fields only: nothing else in a body can reach the store (mass assignment).
          changes: { role: request.body.role, disabled: request.body.disabled },
        });
        return toPublicUser(user);
      },
    );

    app.delete(
      '/users/:id/sessions',
      {
        ...guarded,
        schema: {
          operationId: 'endUserSessions',
          ...secured,
          summary: 'Sign a user out everywhere: end every session of the user',
          description:
            'The account stays as it is; its refresh tokens stop working and its access tokens fail at once.',
          params: IdParams,
          response: { 204: NoContent, ...denied, 404: ErrorSchema, 422: ErrorSchema },
        },
      },
      answerAdminUserAction(services.endUserSessions),
    );

    app.delete(
      '/users/:id',
      {
        ...guarded,
        schema: {
          operationId: 'deleteUser',
          ...secured,
          summary: 'Delete a user and end all of its sessions',
          description: 'Deleting the last active admin is refused with 409.',
          params: IdParams,
          response: {
            204: NoContent,
            ...denied,
            404: ErrorSchema,
            409: ErrorSchema,
            422: ErrorSchema,
          },
        },
      },
      answerAdminUserAction(services.deleteUser),
    );
  };
}
