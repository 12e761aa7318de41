import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../../services.ts';

type Check = 'ok' | 'down';

async function check(probe: () => Promise<void>): Promise<Check> {
  try {
    await probe();
    return 'ok';
  } catch {
    return 'down';
  }
}

/** Liveness and readiness probes (API.md 5). */
export function healthRoutes(services: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/healthz',
      { schema: { summary: 'The process is up', tags: ['operations'] } },
      async () => ({ status: 'ok' }),
    );

    app.get(
      '/readyz',
      {
        schema: {
          summary: 'The dependencies answer',
          description:
            '503 while the store is unreachable. Redis (when configured) only shares rate-limit counters: without it the instance still serves, so Redis down is reported as `degraded` with 200.',
          tags: ['operations'],
        },
      },
      async (request, reply) => {
        const { storage } = services;
        const [store, redis] = await Promise.all([
          check(() => storage.ping()),
          storage.redis ? check(() => storage.redis!.ping()) : Promise.resolve(undefined),
        ]);
        const checks = { store, ...(redis === undefined ? {} : { redis }) };
        if (store === 'down') {
          request.log.warn({ checks }, 'not ready: store unreachable');
          return reply.code(503).send({ detail: 'Store unreachable', checks });
        }
        return { status: redis === 'down' ? 'degraded' : 'ok', checks };
      },
    );
  };
}
