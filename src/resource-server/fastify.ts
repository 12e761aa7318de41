import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  preHandlerAsyncHookHandler,
} from 'fastify';
import { ResourceServerError } from './errors.ts';
import { bearerToken, checkScopes, missingToken, refusal, type AuthOptions } from './http.ts';
import type { AccessTokenClaims, Verifier } from './verifier.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified token's claims; null when the route lets anonymous requests through. */
    auth: AccessTokenClaims | null;
  }
  interface FastifyInstance {
    /** A preHandler that answers 403 unless the token carries every one of `scopes`. */
    requireScope(...scopes: string[]): preHandlerAsyncHookHandler;
  }
}

export interface FastifyAuthOptions extends AuthOptions {
  verifier: Verifier;
}

function refuse(
  reply: FastifyReply,
  request: FastifyRequest,
  error: ResourceServerError,
  realm: string,
  scope?: string,
): FastifyReply {
  if (error.status === 503) {
    // The cause (a network error, an HTTP status) is for the operator; the token is never logged.
    request.log.warn({ code: error.code, cause: String(error.cause ?? '') }, error.message);
  }
  const answer = refusal(error, realm, scope);
  // Fastify: an async hook that answers returns the reply, so the route does not run.
  return reply.code(answer.status).headers(answer.headers).send(answer.body);
}

/** The preHandler of `requireScope`, usable without the decorator too. */
export function fastifyRequireScope(...scopes: string[]): preHandlerAsyncHookHandler {
  if (scopes.length === 0) throw new TypeError('requireScope needs at least one scope');
  return async function requireScope(request, reply) {
    try {
      checkScopes(request.auth, scopes);
    } catch (error) {
      if (!(error instanceof ResourceServerError)) throw error;
      const realm = (request.server as FastifyInstance & { gatehouseRealm?: string })
        .gatehouseRealm;
      return refuse(reply, request, error, realm ?? 'gatehouse', scopes.join(' '));
    }
  };
}

/**
 * Fastify plugin: every request to the routes of the instance it is registered on (and its
 * children) is authenticated from `Authorization: Bearer`, and its claims set on
 * `request.auth`; refused with 401 + RFC 6750 `WWW-Authenticate` otherwise. 503 when
 * Gatehouse cannot be reached to check the token.
 *
 *   await app.register(fastifyAuth, { verifier });
 *   app.get('/admin', { preHandler: app.requireScope('admin') }, handler);
 */
const plugin: FastifyPluginAsync<FastifyAuthOptions> = async (fastify, options) => {
  const { verifier } = options;
  if (!verifier || typeof verifier.verify !== 'function') {
    throw new TypeError('fastifyAuth needs { verifier: createVerifier(...) }');
  }
  const realm = options.realm ?? 'gatehouse';
  const required = options.required ?? true;
  fastify.decorateRequest('auth', null);
  fastify.decorate('gatehouseRealm', realm);
  fastify.decorate('requireScope', fastifyRequireScope);
  fastify.addHook('onRequest', async (request, reply) => {
    const token = bearerToken(request.headers.authorization);
    try {
      if (token === undefined) {
        if (required) throw missingToken();
        return;
      }
      request.auth = await verifier.verify(token);
    } catch (error) {
      if (!(error instanceof ResourceServerError)) throw error;
      return refuse(reply, request, error, realm);
    }
  });
};

// What fastify-plugin does, without depending on it: the hook and decorators apply to the
// instance the plugin is registered on, not to a private child context.
Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'gatehouse-resource-server',
});

export const fastifyAuth = plugin;
