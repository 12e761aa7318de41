import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/config.ts';

/**
 * Response headers for an API (OWASP REST Security Cheat Sheet, ASVS 14.4) and CORS.
 *
 * - Helmet's defaults (nosniff, HSTS, Referrer-Policy: no-referrer, COOP/CORP same-origin, ...)
 *   with a CSP that allows nothing and no framing: JSON needs no sources. Pages that need more
 *   set their own CSP, which replaces this one: /docs (Swagger UI's static CSP, with hashes of
 *   its inline code) and the web UI at /.
 * - `Cache-Control: no-store` on every response that sets no policy of its own (ASVS 8.2.1):
 *   user data and tokens must not stay in shared or browser caches.
 * - CORS only for the origins in GATEHOUSE_CORS_ORIGINS, without credentials and without the
 *   cookie-mode header: the refresh cookie stays same-origin, so cross-site calls can't use it
 *   (http/refresh-cookie.ts relies on that preflight being refused).
 */
export async function registerSecurityHeaders(app: FastifyInstance, config: Config): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });

  if (config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: [...config.corsOrigins],
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type'],
      exposedHeaders: ['Retry-After', 'WWW-Authenticate'],
      credentials: false,
      maxAge: 600,
    });
  }
}
