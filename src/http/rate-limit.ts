import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../config/config.ts';
import { GatehouseError } from '../domain/errors.ts';

const WINDOW_MS = 60_000;

/** The rate-limited routes and their per-minute limit per client IP (API.md 4 and 6). */
function limitedRoutes(config: Config): Record<string, number> {
  return {
    'POST /token': config.rateLimitToken,
    // RFC 7009 2.1 lets anyone call it without client authentication; limited as /token is.
    'POST /revoke': config.rateLimitToken,
    'POST /users/': config.rateLimitRegister,
    // API.md 9: unauthenticated, and each call stores a challenge.
    'POST /webauthn/authentication/options': config.rateLimitToken,
    'POST /webauthn/mfa/options': config.rateLimitToken,
    'POST /password-reset': config.mailFlows.resetRateLimitIp,
  };
}

/**
 * Per-client-IP rate limits on POST /token and POST /users/ (@fastify/rate-limit), counted
 * before the body is parsed. `request.ip` follows the trust-proxy setting, so X-Forwarded-For
 * counts only behind a trusted proxy. Counters live in memory, or in Redis when
 * GATEHOUSE_REDIS_URL is set so that every instance shares them. Over the limit: 429 with
 * Retry-After through http/errors.ts (`rate_limited`). Call before the routes are registered.
 * If Redis is unreachable the limit lets requests through (`skipOnError`) rather than hang or
 * fail them; the per-account login throttle, kept in the SQL store, still holds.
 */
export async function registerRateLimits(
  app: FastifyInstance,
  config: Config,
  redis: Redis | undefined,
): Promise<void> {
  const limits = limitedRoutes(config);
  const perAddress = config.mailFlows.resetRateLimitAddress;
  if (Object.values(limits).every((max) => max === 0) && perAddress === 0) return;

  // Runs before the plugin's own onRoute hook (registered below), which reads this config.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const max = methods.map((method) => limits[`${method} ${route.url}`]).find(Boolean);
    if (max) route.config = { ...route.config, rateLimit: { max, timeWindow: WINDOW_MS } };
  });

  await app.register(rateLimit, {
    global: false,
    ...(redis ? { redis, nameSpace: `${config.redisKeyPrefix}rate-limit:` } : {}),
    skipOnError: true,
    errorResponseBuilder: (_request, context) =>
      new GatehouseError('rate_limited', 'Too many requests; try again later', {
        retryAfterSeconds: context.ttl / 1000,
      }),
  });
}

const HOUR_MS = 3_600_000;

/**
 * API.md 8: POST /password-reset per address, `max` an hour, on the same counters as the
 * per-IP limits (memory or Redis). Keyed by a hash of the normalised address given, whether or
 * not it is registered, so a 429 says nothing about which addresses exist, and the counters
 * hold no address in the clear. A preHandler (the body is parsed by then); undefined when off.
 */
export function perAddressRateLimit(
  app: FastifyInstance,
  max: number,
  addressOf: (request: FastifyRequest) => string,
): preHandlerAsyncHookHandler | undefined {
  if (max === 0 || !app.hasDecorator('createRateLimit')) return undefined;
  const limit = app.createRateLimit({
    max,
    timeWindow: HOUR_MS,
    keyGenerator: (request) =>
      `password-reset-address:${createHash('sha256').update(addressOf(request)).digest('hex')}`,
  });
  return async (request) => {
    const result = await limit(request);
    if (!result.isAllowed && result.isExceeded) {
      throw new GatehouseError('rate_limited', 'Too many requests; try again later', {
        retryAfterSeconds: result.ttlInSeconds,
      });
    }
  };
}
