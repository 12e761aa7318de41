import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { Principal } from '../domain/sessions/authenticate.ts';
import { assertPermission, scopeOf, type Permission } from '../domain/authz/permissions.ts';
import type { Services } from '../services.ts';
import { bearerToken, principalOf } from './authenticate.ts';

/** Checks the permission (role from the store and scope from the token) of the authenticated caller. */
export function requirePermission(permission: Permission): onRequestAsyncHookHandler {
  return async (request) => assertPermission(principalOf(request), permission);
}

/**
 * The guard a protected route declares in one line, FastAPI's
 * `Security(get_current_user, scopes=[...])`: `{ ...guard(services, 'users:manage') }`.
 * It runs before the body is parsed: no token is 401, a token lacking the role or the scope
 * is 403, whatever the body holds.
 */
export function guard(
  services: Services,
  permission: Permission,
): { onRequest: onRequestAsyncHookHandler } {
  // requireUser and requirePermission in one hook: one promise and one hook step per request
  // instead of two. The same order: no or a bad token is 401 before any 403. Not an async
  // function: authenticate's promise, continued, is the hook's, with no frame of its own per
  // request (issue 21); a missing or non-Bearer header throws here, which Fastify answers as
  // it does a rejection.
  const admit = (principal: Principal, request: FastifyRequest): void => {
    request.principal = principal;
    assertPermission(principal, permission);
  };
  return {
    onRequest: (request) =>
      services.authenticate(bearerToken(request)).then((principal) => admit(principal, request)),
  };
}

/** The OpenAPI security requirement of a route guarded by `permission`, scopes listed. */
export function securityFor(permission: Permission): Array<Record<string, string[]>> {
  return [{ OAuth2PasswordBearer: [scopeOf(permission)] }];
}
