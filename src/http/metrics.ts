import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, onResponseHookHandler } from 'fastify';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Secret } from '../config/secret.ts';
import { GatehouseError } from '../domain/errors.ts';
import type { Services } from '../services.ts';
import { bearerToken } from './authenticate.ts';
import { RequestStats } from './request-stats.ts';
import { ErrorSchema, MALFORMED_REQUEST } from './schemas.ts';

/** The outcome label of a /token request: `success` or the error code it failed with. */
function grantOutcome(request: FastifyRequest, reply: FastifyReply): string {
  if (reply.statusCode < 400) return 'success';
  return request.errorCode ?? `http_${reply.statusCode}`;
}

/**
 * Why a 429 was sent, each counted once under its own reason: the per-IP limiter's
 * `rate_limited`, or the per-account login throttle's `login_throttled` (ASVS 2.2.1), which
 * is no rate limit of the client's and was counted as one before.
 */
function throttleReason(request: FastifyRequest): string {
  if (request.errorCode === 'too_many_attempts') return 'login_throttled';
  return request.errorCode ?? 'http_429';
}

/**
 * Prometheus metrics: requests and latency by route and status, token grants by
 * outcome (logins, refreshes, reuse detections, lockouts), rate-limit rejections, password
 * hashing load and store pool usage. One registry per app, so tests can build many apps.
 * Called only with GATEHOUSE_METRICS on: its GC observer and per-request hooks cost CPU.
 */
export function registerMetrics(app: FastifyInstance, services: Services): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gatehouse_process_' });

  const stats = new RequestStats(registry);
  const grants = new Counter({
    name: 'gatehouse_token_grants_total',
    help: 'POST /token requests by grant type and outcome (success or error code)',
    labelNames: ['grant_type', 'outcome'],
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'gatehouse_rate_limited_total',
    help: 'Requests refused with 429, by route and reason (rate_limited: per client IP; login_throttled: per account)',
    labelNames: ['route', 'reason'],
    registers: [registry],
  });
  new Gauge({
    name: 'gatehouse_password_hashing_jobs',
    help: 'Password hashing jobs running and queued, and how many may run at once now',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const { hashing } = services.loadStats();
      this.set({ state: 'running' }, hashing.running);
      this.set({ state: 'queued' }, hashing.queued);
      this.set({ state: 'limit' }, hashing.limit);
    },
  });
  new Gauge({
    name: 'gatehouse_store_pool_connections',
    help: 'Store connection pool: total, idle and waiting clients (Postgres)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const stats = services.loadStats().pool;
      if (!stats) return;
      this.set({ state: 'total' }, stats.total);
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'waiting' }, stats.waiting);
    },
  });

  new Counter({
    name: 'gatehouse_signing_key_reads_total',
    help: 'Reads of the signing key set from the store (start, rotation; while tokens are verified at most one per 5 s, known or unknown kid)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(services.signingKeys.storeReads);
    },
  });
  registerMailMetrics(registry, services);

  // Each route's own onResponse hook, its counts prebuilt: no `request.routeOptions` (a getter
  // that builds a 12-field object per access) and no label objects per request. Callback
  // hooks: an async one costs a promise on every request.
  const countRequest = (
    route: string,
    statsFor: (method: string) => ReturnType<RequestStats['forRoute']>,
  ) => {
    const isToken = route === '/token';
    return (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
      const status = reply.statusCode;
      statsFor(request.method).record(status, reply.elapsedTime / 1000);
      if (status === 429) rateLimited.inc({ route, reason: throttleReason(request) });
      if (isToken && request.method === 'POST') {
        const body = request.body as { grant_type?: unknown } | undefined;
        const grantType = body?.grant_type === 'refresh_token' ? 'refresh_token' : 'password';
        grants.inc({ grant_type: grantType, outcome: grantOutcome(request, reply) });
      }
      done();
    };
  };
  app.addHook('onRoute', (options) => {
    const methods = [options.method].flat();
    const url = options.url;
    const byMethod = new Map(methods.map((m) => [m, stats.forRoute(m, url)]));
    const statsFor = (method: string) => byMethod.get(method) ?? stats.forRoute(method, url);
    const hook = countRequest(url, statsFor);
    options.onResponse = [options.onResponse ?? []].flat().concat(hook as onResponseHookHandler);
  });
  // Requests no route matched (404s, router errors): the one case the app-wide hook counts.
  const unmatched = countRequest('unmatched', (method) => stats.forRoute(method, 'unmatched'));
  app.addHook('onResponse', (request, reply, done) => {
    if (request.is404) return unmatched(request, reply, done);
    done();
  });
  return registry;
}

/**
 * API.md 8: the outbox by status across all instances (read from the store at each scrape;
 * `failed` is what to alert on), and this process's delivery attempts by outcome.
 */
function registerMailMetrics(registry: Registry, services: Services): void {
  new Gauge({
    name: 'gatehouse_mail_outbox',
    help: 'Outbox messages by status (queued, sending, sent, failed, logged), all instances',
    labelNames: ['status'],
    // Every worker reads the same store: across `--workers`, one reading, never their sum.
    aggregator: 'first',
    registers: [registry],
    async collect() {
      // A store outage must not take /metrics down with it (the store's own metrics and
      // /readyz report it): the gauge keeps its last reading.
      const counts = await services.listMailCounts().catch(() => undefined);
      for (const [status, count] of Object.entries(counts ?? {})) this.set({ status }, count);
    },
  });
  const sender = services.mailSender;
  if (!sender) return;
  const reported = { sent: 0, retried: 0, failed: 0, logged: 0 };
  new Counter({
    name: 'gatehouse_mail_deliveries_total',
    help: "This process's mail delivery attempts by outcome (sent, retried, failed, logged)",
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      for (const outcome of ['sent', 'retried', 'failed', 'logged'] as const) {
        this.inc({ outcome }, sender.outcomes[outcome] - reported[outcome]);
        reported[outcome] = sender.outcomes[outcome];
      }
    },
  });
}

/** Constant-time comparison of a presented token with the configured one (CWE-208). */
function sameToken(presented: string, expected: Secret): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(expected.reveal()));
}

const PROMETHEUS_TEXT = {
  description: 'Prometheus text exposition format',
  content: { 'text/plain': { schema: { type: 'string' } } },
};

/**
 * GET /metrics in Prometheus text format (GATEHOUSE_METRICS; off by default in production).
 * With GATEHOUSE_METRICS_TOKEN set, only `Authorization: Bearer <token>` is answered
 * (Prometheus' `authorization` scrape setting); else 401 as any Bearer route (RFC 6750 3.1).
 */
export function metricsRoute(
  registry: Registry,
  token: Secret | undefined,
  /** Under `--workers`: every worker's metrics, summed (cluster-metrics.ts). */
  clusterMetrics?: () => Promise<string>,
) {
  return async (app: FastifyInstance) => {
    app.get(
      '/metrics',
      {
        onRequest: async (request) => {
          if (token && !sameToken(bearerToken(request), token)) {
            throw new GatehouseError('invalid_token', 'Could not validate credentials');
          }
        },
        schema: {
          operationId: 'getMetrics',
          summary: 'Prometheus metrics',
          tags: ['operations'],
          ...(token
            ? {
                security: [{ MetricsToken: [] }],
                response: { 200: PROMETHEUS_TEXT, 401: ErrorSchema },
              }
            : { security: [], response: { 200: PROMETHEUS_TEXT, ...MALFORMED_REQUEST } }),
        },
      },
      async (request, reply) => {
        if (!clusterMetrics) return reply.type(registry.contentType).send(await registry.metrics());
        try {
          return reply.type(registry.contentType).send(await clusterMetrics());
        } catch (error) {
          // A worker that did not answer: a failed scrape, never one worker's partial counts
          // (Prometheus would read the drop as counters reset).
          request.log.warn({ err: error }, 'metrics of all workers unavailable');
          throw new GatehouseError('store_unavailable', 'Metrics of all workers are unavailable');
        }
      },
    );
  };
}
