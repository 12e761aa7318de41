import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/config.ts';

/**
 * Response headers for an API (OWASP REST Security Cheat Sheet, ASVS 14.4), the set helmet's
 * defaults send, written out once. These never vary by request, and running @fastify/helmet's
 * middleware chain per request (it re-parsed the CSP every time) cost 14% of the CPU of a
 * `GET /users/me/` (`--cpu-prof`, BENCHMARKS.md).
 *
 * - A CSP that allows nothing and no framing: JSON needs no sources. Pages that need more set
 *   their own CSP, which replaces this one: /docs (Swagger UI's static CSP, with hashes of its
 *   inline code) and the web UI at /.
 * - `Cache-Control: no-store` unless a route sets its own policy (ASVS 8.2.1): user data and
 *   tokens must not stay in shared or browser caches.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy':
    "default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'DENY',
  'x-permitted-cross-domain-policies': 'none',
  // Turns off the XSS auditor of old browsers, which itself opened leaks (OWASP headers sheet).
  'x-xss-protection': '0',
  'cache-control': 'no-store',
});

/**
 * The headers above on every response, set before routing so a route's own `reply.header`
 * replaces them; and CORS only for the origins in GATEHOUSE_CORS_ORIGINS, without credentials
 * and without the cookie-mode header: the refresh cookie stays same-origin, so cross-site
 * calls can't use it (http/refresh-cookie.ts relies on that preflight being refused).
 */
export async function registerSecurityHeaders(app: FastifyInstance, config: Config): Promise<void> {
  // A callback hook, not an async one: no promise per request for a constant. The entries
  // listed once: `reply.headers()` lists the object's keys anew on every request.
  const entries = Object.entries(SECURITY_HEADERS);
  app.addHook('onRequest', (_request, reply, done) => {
    for (const [name, value] of entries) reply.header(name, value);
    done();
  });

  if (config.http.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: [...config.http.corsOrigins],
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type'],
      exposedHeaders: ['Retry-After', 'WWW-Authenticate'],
      credentials: false,
      maxAge: 600,
    });
  }
}
