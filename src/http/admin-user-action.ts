import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ClientInfo } from '../domain/client-info.ts';
import { principalOf } from './authenticate.ts';
import { clientInfo } from './client-info.ts';

/** An admin's action on one user: who acts and from where (both audited), on whom. */
export interface AdminUserAction {
  actorId: number;
  client: ClientInfo;
  userId: number;
}

/**
 * The handler of an admin route that acts on the user `:id` and answers 204 No Content
 * (API.md 3, 9): DELETE /users/{id}, /users/{id}/sessions and /users/{id}/mfa.
 */
export function answerAdminUserAction(action: (input: AdminUserAction) => Promise<unknown>) {
  // The route's schema has validated `:id` (schemas.ts IdParams).
  return async (request: FastifyRequest & { params: { id: number } }, reply: FastifyReply) => {
    await action({
      actorId: principalOf(request).user.id,
      client: clientInfo(request),
      userId: request.params.id,
    });
    return reply.code(204).send(null);
  };
}
