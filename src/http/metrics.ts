import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Services } from '../services.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The GatehouseError code a request failed with, for metrics; set by http/errors.ts. */
    errorCode: string | undefined;
  }
}

/** The outcome label of a /token request: `success` or the error code it failed with. */
function grantOutcome(request: FastifyRequest, reply: FastifyReply): string {
  if (reply.statusCode < 400) return 'success';
  return (
    request.errorCode ?? (reply.statusCode === 429 ? 'rate_limited' : `http_${reply.statusCode}`)
  );
}

/**
 * Prometheus metrics (issue 5): requests and latency by route and status, token grants by
 * outcome (logins, refreshes, reuse detections, lockouts), rate-limit rejections, password
 * hashing load and store pool usage. One registry per app, so tests can build many apps.
 */
export function registerMetrics(app: FastifyInstance, services: Services): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gatehouse_process_' });

  const requests = new Counter({
    name: 'gatehouse_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'gatehouse_http_request_duration_seconds',
    help: 'HTTP request latency by method and route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const grants = new Counter({
    name: 'gatehouse_token_grants_total',
    help: 'POST /token requests by grant type and outcome (success or error code)',
    labelNames: ['grant_type', 'outcome'],
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'gatehouse_rate_limited_total',
    help: 'Requests refused with 429, by route',
    labelNames: ['route'],
    registers: [registry],
  });
  new Gauge({
    name: 'gatehouse_password_hashing_jobs',
    help: 'Password hashing jobs running and queued, and how many may run at once now',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.set({ state: 'running' }, services.hashLimiter.running);
      this.set({ state: 'queued' }, services.hashLimiter.queued);
      this.set({ state: 'limit' }, services.hashLimiter.limit);
    },
  });
  new Gauge({
    name: 'gatehouse_store_pool_connections',
    help: 'Store connection pool: total, idle and waiting clients (Postgres)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const stats = services.storage.poolStats();
      if (!stats) return;
      this.set({ state: 'total' }, stats.total);
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'waiting' }, stats.waiting);
    },
  });

  app.decorateRequest('errorCode', undefined);
  // A callback hook: an async one costs a promise on every request.
  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, not the raw URL, keeps label cardinality bounded.
    const route = request.routeOptions.url ?? 'unmatched';
    const status = String(reply.statusCode);
    requests.inc({ method: request.method, route, status });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    if (reply.statusCode === 429) rateLimited.inc({ route });
    if (route === '/token' && request.method === 'POST') {
      const body = request.body as { grant_type?: unknown } | undefined;
      const grantType = body?.grant_type === 'refresh_token' ? 'refresh_token' : 'password';
      grants.inc({ grant_type: grantType, outcome: grantOutcome(request, reply) });
    }
    done();
  });
  return registry;
}

/** GET /metrics in Prometheus text format; off with GATEHOUSE_METRICS=false. */
export function metricsRoute(registry: Registry) {
  return async (app: FastifyInstance) => {
    app.get(
      '/metrics',
      { schema: { summary: 'Prometheus metrics', tags: ['operations'] } },
      async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
    );
  };
}
