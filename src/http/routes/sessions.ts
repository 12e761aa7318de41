import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Services } from '../../services.ts';
import { BEARER_SECURITY, principalOf, requireUser } from '../authenticate.ts';
import { guard, securityFor } from '../authorize.ts';
import { clientInfo } from '../client-info.ts';
import { deviceName } from '../device-name.ts';
import { requireContentType } from '../content-type.ts';
import type { RefreshCookies } from '../refresh-cookie.ts';
import { ErrorSchema } from '../schemas.ts';

const SessionItem = Type.Object({
  id: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.String({ format: 'date-time' }),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  device: Type.Union([Type.String(), Type.Null()], {
    description: 'A short name read from user_agent ("Chrome on Linux", "curl")',
  }),
  ip: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean({ description: 'The session of the token making this request' }),
});

const NoContent = Type.Null({ description: 'No content' });

const ChangePasswordBody = Type.Object({
  current_password: Type.String(),
  new_password: Type.String({ description: '8 to 128 characters; common passwords are refused' }),
});

/** Logout, the user's own sessions and password change: API.md 2. */
export function sessionRoutes(
  services: Services,
  cookies: RefreshCookies,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    // onRequest: the caller is known (or refused with 401) before any body is parsed or validated.
    // Ending the caller's own session needs no scope: a token can always give itself up
    // (RFC 7009 2.1), and refusing it would only keep a session alive.
    const signedIn = { onRequest: requireUser(services) };
    // The rest is the own account: the `me` scope (a `scope=admin` token gets 403).
    const guarded = guard(services, 'account:manage');
    const secured = { tags: ['sessions'], security: securityFor('account:manage') };

    app.post(
      '/logout',
      {
        ...signedIn,
        schema: {
          operationId: 'logout',
          tags: ['sessions'],
          security: BEARER_SECURITY,
          summary: 'End the current session',
          response: { 204: NoContent, 401: ErrorSchema },
        },
      },
      async (request, reply) => {
        const { user, sessionId } = principalOf(request);
        await services.endSession(user.id, sessionId, clientInfo(request), sessionId);
        cookies.clear(request, reply);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/logout/all',
      {
        ...guarded,
        schema: {
          operationId: 'logoutAll',
          ...secured,
          summary: 'End every session of the user',
          response: { 204: NoContent, 401: ErrorSchema, 403: ErrorSchema },
        },
      },
      async (request, reply) => {
        await services.endAllSessions(principalOf(request).user.id, undefined, clientInfo(request));
        cookies.clear(request, reply);
        return reply.code(204).send(null);
      },
    );

    // ASVS 5.0 7.4.3 (4.0 3.3.4): after a second factor changes, the user may end every other
    // session and stay signed in here. The refresh cookie is this session's: it is kept.
    app.post(
      '/logout/others',
      {
        ...guarded,
        schema: {
          operationId: 'logoutOthers',
          ...secured,
          summary: 'End every other session of the user (keeps this one)',
          response: { 204: NoContent, 401: ErrorSchema, 403: ErrorSchema },
        },
      },
      async (request, reply) => {
        const { user, sessionId } = principalOf(request);
        await services.endAllSessions(user.id, sessionId, clientInfo(request));
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/users/me/sessions',
      {
        ...guarded,
        schema: {
          operationId: 'listSessions',
          ...secured,
          summary: "The caller's active sessions",
          response: {
            200: Type.Object({ items: Type.Array(SessionItem) }),
            401: ErrorSchema,
            403: ErrorSchema,
          },
        },
      },
      async (request) => {
        const { user, sessionId } = principalOf(request);
        const sessions = await services.listSessions(user.id);
        return {
          items: sessions.map((s) => ({
            id: s.id,
            created_at: s.createdAt.toISOString(),
            last_used_at: s.lastUsedAt.toISOString(),
            user_agent: s.userAgent,
            device: deviceName(s.userAgent),
            ip: s.ip,
            current: s.id === sessionId,
          })),
        };
      },
    );

    app.delete(
      '/users/me/sessions/:id',
      {
        ...guarded,
        schema: {
          operationId: 'endSession',
          ...secured,
          summary: "End one of your sessions (another user's id is 404)",
          params: Type.Object({ id: Type.String() }),
          response: { 204: NoContent, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema },
        },
      },
      async (request, reply) => {
        const { user, sessionId } = principalOf(request);
        await services.endSession(user.id, request.params.id, clientInfo(request), sessionId);
        return reply.code(204).send(null);
      },
    );

    app.put(
      '/users/me/password',
      {
        ...guarded,
        preValidation: requireContentType('json'),
        schema: {
          operationId: 'changePassword',
          ...secured,
          tags: ['users'],
          summary: 'Change your password; ends your other sessions',
          body: ChangePasswordBody,
          response: {
            204: NoContent,
            400: ErrorSchema,
            401: ErrorSchema,
            403: ErrorSchema,
            422: ErrorSchema,
          },
        },
      },
      async (request, reply) => {
        const { user, sessionId } = principalOf(request);
        await services.changePassword({
          userId: user.id,
          sessionId,
          currentPassword: request.body.current_password,
          newPassword: request.body.new_password,
          client: clientInfo(request),
        });
        return reply.code(204).send(null);
      },
    );
  };
}
