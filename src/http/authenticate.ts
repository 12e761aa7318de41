import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { GatehouseError } from '../domain/errors.ts';
import type { Principal } from '../domain/sessions/authenticate.ts';
import type { Services } from '../services.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

/**
 * The Bearer token of the Authorization header (RFC 6750 2.1), read as FastAPI's
 * OAuth2PasswordBearer does: no header or another scheme is `not_authenticated`; the scheme
 * name is case-insensitive. Tokens in the query string are never read (RFC 6750 2.3 is
 * optional and leaks tokens into logs).
 */
export function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (typeof header !== 'string') {
    throw new GatehouseError('not_authenticated', 'Not authenticated');
  }
  const space = header.indexOf(' ');
  const scheme = space === -1 ? header : header.slice(0, space);
  if (scheme.toLowerCase() !== 'bearer') {
    throw new GatehouseError('not_authenticated', 'Not authenticated');
  }
  return space === -1 ? '' : header.slice(space + 1).trim();
}

/** The caller of an authenticated route; set by `requireUser`. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new GatehouseError('not_authenticated', 'Not authenticated');
  return request.principal;
}

/** The guard every protected route declares: FastAPI's `Depends(get_current_user)`. */
export function requireUser(services: Services): onRequestAsyncHookHandler {
  return async (request) => {
    request.principal = await services.authenticate(bearerToken(request));
  };
}

/** OpenAPI security requirement for routes guarded by `requireUser`. */
export const BEARER_SECURITY = [{ OAuth2PasswordBearer: [] }];
