import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../../services.ts';

/** Liveness and readiness probes (API.md 5). */
export function healthRoutes(services: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/healthz',
      { schema: { summary: 'The process is up', tags: ['operations'] } },
      async () => ({
        status: 'ok',
      }),
    );

    app.get(
      '/readyz',
      { schema: { summary: 'The store answers', tags: ['operations'] } },
      async (request, reply) => {
        try {
          await services.storage.ping();
          return { status: 'ok', checks: { store: 'ok' } };
        } catch (error) {
          request.log.warn({ err: error }, 'store unreachable');
          return reply.code(503).send({ detail: 'Store unreachable', checks: { store: 'down' } });
        }
      },
    );
  };
}
