import type { FastifyRequest } from 'fastify';
import type { ClientInfo } from '../domain/client-info.ts';

const MAX_USER_AGENT_LENGTH = 512;

/** Who is calling, for sessions and the audit log. `request.ip` honours the trust-proxy setting. */
export function clientInfo(request: FastifyRequest): ClientInfo {
  const agent = request.headers['user-agent'];
  return {
    userAgent: typeof agent === 'string' ? agent.slice(0, MAX_USER_AGENT_LENGTH) : null,
    ip: request.ip || null,
  };
}
