import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { Config } from '../config/config.ts';
import { GatehouseError } from '../domain/errors.ts';

const WINDOW_MS = 60_000;

/** The rate-limited routes and their per-minute limit per client IP (API.md 4 and 6). */
function limitedRoutes(config: Config): Record<string, number> {
  return {
    'POST /token': config.rateLimitToken,
    'POST /users/': config.rateLimitRegister,
  };
}

/**
 * A Redis client for counters every instance shares. Failing fast matters more than any one
 * count: no offline queue and a short command timeout, so a Redis outage lets requests through
 * (`skipOnError`; the per-account throttle in the SQL store still holds) instead of hanging
 * them or answering 500.
 */
async function openRedis(app: FastifyInstance, url: string): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 1000,
  });
  let reported = false;
  redis.on('error', (error: Error) => {
    // Reconnect attempts repeat the error; one line per outage is enough.
    if (!reported) app.log.warn({ err: error }, 'rate-limit Redis unavailable; limits not shared');
    reported = true;
  });
  redis.on('ready', () => (reported = false));
  app.addHook('onClose', async () => redis.disconnect());
  try {
    await redis.connect();
  } catch {
    // Logged by the error listener; ioredis keeps reconnecting in the background.
  }
  return redis;
}

/**
 * Per-client-IP rate limits on POST /token and POST /users/ (@fastify/rate-limit), counted
 * before the body is parsed. `request.ip` follows the trust-proxy setting, so X-Forwarded-For
 * counts only behind a trusted proxy. Counters live in memory, or in Redis when
 * GATEHOUSE_REDIS_URL is set so that every instance shares them. Over the limit: 429 with
 * Retry-After through http/errors.ts (`rate_limited`). Call before the routes are registered.
 */
export async function registerRateLimits(app: FastifyInstance, config: Config): Promise<void> {
  const limits = limitedRoutes(config);
  if (Object.values(limits).every((max) => max === 0)) return;

  // Runs before the plugin's own onRoute hook (registered below), which reads this config.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const max = methods.map((method) => limits[`${method} ${route.url}`]).find(Boolean);
    if (max) route.config = { ...route.config, rateLimit: { max, timeWindow: WINDOW_MS } };
  });

  const redis = config.redisUrl ? await openRedis(app, config.redisUrl) : undefined;
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
