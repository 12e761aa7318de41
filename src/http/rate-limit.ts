import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import rateLimit from '@fastify/rate-limit';
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  preHandlerAsyncHookHandler,
  preValidationAsyncHookHandler,
} from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../config/config.ts';
import { GatehouseError } from '../domain/errors.ts';

const WINDOW_MS = 60_000;

const TOKEN_ROUTE = 'POST /token';

/** The rate-limited routes and their per-minute limit per client IP (API.md 4 and 6). */
function limitedRoutes(config: Config): Record<string, number> {
  return {
    // RFC 7009 2.1 lets anyone call it without client authentication; limited as /token is.
    'POST /revoke': config.rateLimits.token,
    'POST /users/': config.rateLimits.register,
    // API.md 9: unauthenticated, and each call stores a challenge.
    'POST /webauthn/authentication/options': config.rateLimits.token,
    'POST /webauthn/mfa/options': config.rateLimits.token,
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
  const tokenLimits = [config.rateLimits.token, config.rateLimits.refresh];
  if ([...Object.values(limits), ...tokenLimits, perAddress].every((max) => max === 0)) return;

  let tokenLimit: preValidationAsyncHookHandler | undefined;
  // Runs before the plugin's own onRoute hook (registered below), which reads this config.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.some((method) => `${method} ${route.url}` === TOKEN_ROUTE)) {
      tokenLimit ??= tokenRouteLimit(app, config);
      const own = route.preValidation ?? [];
      // First of the route's checks, so a refused content type is counted too.
      route.preValidation = [tokenLimit, ...(Array.isArray(own) ? own : [own])];
      return;
    }
    const max = methods.map((method) => limits[`${method} ${route.url}`]).find(Boolean);
    if (max) route.config = { ...route.config, rateLimit: { max, timeWindow: WINDOW_MS } };
  });

  await app.register(rateLimit, {
    global: false,
    ...(redis ? { redis, nameSpace: `${config.storage.redisKeyPrefix}rate-limit:` } : {}),
    skipOnError: true,
    errorResponseBuilder: (_request, context) =>
      new GatehouseError('rate_limited', 'Too many requests; try again later', {
        retryAfterSeconds: context.ttl / 1000,
      }),
  });
}

/**
 * The counter key of a client address: IPv6 clients by their /64 (one subscriber's prefix, as
 * @fastify/rate-limit does), so rotating addresses inside it buys no extra attempts.
 */
export function addressKey(ip: string): string {
  if (!isIPv6(ip)) return ip.toLowerCase();
  const lower = ip.toLowerCase().replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return mapped[1]!;
  // An embedded dotted quad is the last two groups.
  const hex = lower.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a, b, c, d) =>
    [(Number(a) << 8) | Number(b), (Number(c) << 8) | Number(d)]
      .map((n) => n.toString(16))
      .join(':'),
  );
  const [head = '', tail] = hex.split('::');
  const front = head ? head.split(':') : [];
  const back = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? front
      : [...front, ...Array<string>(8 - front.length - back.length).fill('0'), ...back];
  return `${groups
    .slice(0, 4)
    .map((group) => parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}

/** The grant a POST /token asks for (the form is parsed by preValidation). */
function isRefreshGrant(request: FastifyRequest): boolean {
  const body = request.body as { grant_type?: unknown } | null | undefined;
  return typeof body === 'object' && body !== null && body.grant_type === 'refresh_token';
}

/**
 * POST /token's two per-IP budgets (API.md 4): refresh grants count on their own
 * (GATEHOUSE_RATE_LIMIT_REFRESH), every other grant on GATEHOUSE_RATE_LIMIT_TOKEN. The refresh
 * token is 256 random bits (nothing to guess), and a web UI spends one on every page load: on
 * the same counter, twenty reloads behind one office NAT would lock every password login from
 * it out. OWASP ASVS 2.2.1 asks the anti-automation of the credential guesses, which
 * this keeps whole. Counted once the form is parsed, first of the route's preValidation hooks;
 * a body that can't be parsed at all is refused (422) before any grant runs.
 */
function tokenRouteLimit(app: FastifyInstance, config: Config): preValidationAsyncHookHandler {
  const limiter = (max: number, name: string) =>
    max === 0
      ? undefined
      : app.createRateLimit({
          max,
          timeWindow: WINDOW_MS,
          keyGenerator: (request) => `${name}:${addressKey(request.ip)}`,
        });
  const password = limiter(config.rateLimits.token, 'token');
  const refresh = limiter(config.rateLimits.refresh, 'token-refresh');
  return async function tokenLimit(request: FastifyRequest, reply: FastifyReply) {
    const refreshGrant = isRefreshGrant(request);
    const limit = refreshGrant ? refresh : password;
    if (!limit) return;
    const result = await limit(request);
    if (result.isAllowed) return;
    // The headers @fastify/rate-limit sends on its own routes.
    reply.header('x-ratelimit-limit', String(result.max));
    reply.header('x-ratelimit-remaining', String(result.remaining));
    reply.header('x-ratelimit-reset', String(result.ttlInSeconds));
    if (result.isExceeded) {
      throw new GatehouseError(
        'rate_limited',
        refreshGrant
          ? 'Too many session refreshes from this network; try again later'
          : 'Too many sign-in requests from this network; try again later',
        { retryAfterSeconds: result.ttlInSeconds },
      );
    }
  };
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
