import formbody from '@fastify/formbody';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { Config } from '../config/config.ts';
import type { Services } from '../services.ts';
import { answerClientError, answerNodeRefusals } from './client-errors.ts';
import { refuseRequestsWhileClosing } from './closing.ts';
import { refuseBadHostHeaders } from './host-header.ts';
import { useStrictUtf8Json } from './content-type.ts';
import { answerRouterError, registerErrorHandling } from './errors.ts';
import { lazyChildLogger } from './lazy-request-logger.ts';
import { metricsRoute, registerMetrics } from './metrics.ts';
import { registerOpenApi } from './openapi.ts';
import { registerRateLimits } from './rate-limit.ts';
import { RefreshCookies } from './refresh-cookie.ts';
import { adminRoutes } from './routes/admin.ts';
import { auditRoutes } from './routes/audit.ts';
import { clientRoutes } from './routes/clients.ts';
import { healthRoutes } from './routes/health.ts';
import { revokeIntrospectRoutes } from './routes/revoke-introspect.ts';
import { mailFlowRoutes } from './routes/mail-flows.ts';
import { adminMfaRoutes, mfaRoutes } from './routes/mfa.ts';
import { passkeyRoutes } from './routes/passkeys.ts';
import { sessionRoutes } from './routes/sessions.ts';
import { tokenRoutes } from './routes/token.ts';
import { webUiRoutes } from './routes/web-ui.ts';
import { wellKnownRoutes } from './routes/well-known.ts';
import { userRoutes } from './routes/users.ts';
import { registerSecurityHeaders } from './security-headers.ts';
import { validatorCompiler } from './validation.ts';

export interface ServerOptions {
  /** pino logging; off in tests unless asked for. */
  logger?: boolean;
  /** GATEHOUSE_REDIS_URL's client: rate-limit counters every instance shares (else in memory). */
  rateLimitRedis?: Redis;
  /** Under `--workers`: GET /metrics answers every worker's metrics, summed (cluster-metrics.ts). */
  clusterMetrics?: (registry: Registry) => () => Promise<string>;
}

// API.md: no log line ever holds a password, a token or a key. Bodies are never logged;
// these are the headers that carry credentials.
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

/** Builds the Fastify app for the given services. Never listens: main.ts and tests decide that. */
export async function buildServer(
  services: Services,
  config: Config,
  options: ServerOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : { level: config.logLevel, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    childLoggerFactory: lazyChildLogger,
    bodyLimit: config.http.bodyLimit,
    trustProxy: config.http.trustProxy,
    // API.md: /users/me and /users/me/ are both answered directly, never redirected.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // closing.ts answers requests that arrive while the server closes, in the API's shape.
    return503OnClosing: false,
    frameworkErrors: answerRouterError,
    clientErrorHandler: answerClientError,
    // Node's own refusal of an HTTP/1.1 request without Host has an empty body; host-header.ts
    // refuses it instead, in the API's shape.
    http: { requireHostHeader: false },
  }).withTypeProvider<TypeBoxTypeProvider>();

  answerNodeRefusals(app.server);
  app.setValidatorCompiler(validatorCompiler);
  // Before any route: its onRoute hook gives every route its own metrics hook. Off (the
  // production default), none of it exists: no collectors, no GC observer, no request hooks.
  const metrics = config.metrics.enabled ? registerMetrics(app, services) : undefined;
  registerErrorHandling(app);
  useStrictUtf8Json(app);
  await app.register(formbody);
  refuseBadHostHeaders(app);
  await registerSecurityHeaders(app, config);
  refuseRequestsWhileClosing(app);
  await registerRateLimits(app, config, options.rateLimitRedis);
  await registerOpenApi(app, config);

  if (metrics) {
    const all = options.clusterMetrics?.(metrics);
    await app.register(metricsRoute(metrics, config.metrics.token, all));
  }
  await app.register(healthRoutes(services));
  await app.register(userRoutes(services));
  // The web UI's refresh cookie: its origin check and Secure flag follow GATEHOUSE_PUBLIC_URL.
  const cookies = new RefreshCookies({
    publicUrl: config.http.publicUrl,
    trustProxy: config.http.trustProxy,
  });
  await app.register(tokenRoutes(services, cookies));
  await app.register(sessionRoutes(services, cookies));
  await app.register(adminRoutes(services));
  await app.register(mfaRoutes(services));
  await app.register(adminMfaRoutes(services));
  await app.register(auditRoutes(services));
  await app.register(revokeIntrospectRoutes(services, config));
  await app.register(clientRoutes(services));
  await app.register(wellKnownRoutes(services, config));
  await app.register(mailFlowRoutes(services, config));
  await app.register(passkeyRoutes(services));
  await app.register(webUiRoutes({ passwordMinLength: config.passwords.minLength }));
  return app;
}
