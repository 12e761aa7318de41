import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Services } from '../../services.ts';
import { MALFORMED_REQUEST } from '../schemas.ts';

const CheckSchema = Type.Union([Type.Literal('ok'), Type.Literal('down')]);
const ChecksSchema = Type.Object({ store: CheckSchema, redis: Type.Optional(CheckSchema) });
const NotReadySchema = Type.Object({
  detail: Type.String(),
  checks: ChecksSchema,
  store: Type.Object({ location: Type.String(), reason: Type.Optional(Type.String()) }),
});

/** Liveness and readiness probes (API.md 5). */
export function healthRoutes(services: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/healthz',
      {
        schema: {
          operationId: 'getLiveness',
          security: [],
          summary: 'The process is up',
          tags: ['operations'],
          response: {
            200: Type.Object({ status: Type.String({ examples: ['ok'] }) }),
            ...MALFORMED_REQUEST,
          },
        },
      },
      async () => ({ status: 'ok' }),
    );

    app.get(
      '/readyz',
      {
        schema: {
          operationId: 'getReadiness',
          security: [],
          summary: 'The dependencies answer',
          description:
            "503 while the store is unreachable, with `store.location` (scheme, host, port and database; never a password) and `store.reason` (the driver's). Redis (when configured) only shares rate-limit counters: without it the instance still serves, so Redis down is reported as `degraded` with 200.",
          tags: ['operations'],
          response: {
            200: Type.Object({
              status: Type.String({ description: '`ok`, or `degraded` while Redis is down' }),
              checks: ChecksSchema,
            }),
            503: NotReadySchema,
            ...MALFORMED_REQUEST,
          },
        },
      },
      async (request, reply) => {
        const { store, redis, storeLocation } = await services.readiness();
        const checks = {
          store: store.status,
          ...(redis === undefined ? {} : { redis: redis.status }),
        };
        if (store.status === 'down') {
          // Which store and why, so an operator can act on the probe alone.
          const details = { location: storeLocation, reason: store.reason };
          request.log.warn({ checks, store: details }, 'not ready: store unreachable');
          return reply.code(503).send({ detail: 'Store unreachable', checks, store: details });
        }
        return { status: redis?.status === 'down' ? 'degraded' : 'ok', checks };
      },
    );
  };
}
