import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/config.ts';
import { publicBaseUrl } from '../config/public-base-url.ts';
import { registerLazySwaggerUi } from './lazy-swagger-ui.ts';

/**
 * GET /openapi.json and the Swagger UI at /docs (API.md 5). The security scheme is FastAPI's:
 * an OAuth2 password flow whose tokenUrl is `token`, resolved against /openapi.json, so the
 * Authorize button logs in through POST /token.
 *
 * Client generators read it (README, "The OpenAPI document"): each route's schema names its
 * `operationId` and its `security` (`[]` where no credential is needed), and `npm run
 * lint:openapi` checks the result with Redocly's recommended rules (redocly.yaml).
 */
export async function registerOpenApi(app: FastifyInstance, config: Config): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Gatehouse',
        version: '0.1.0',
        description:
          'Self-hostable authentication and user management (OAuth2 password flow with JWT).',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      // Paths are relative to this URL, so a GATEHOUSE_PUBLIC_URL with a path prefix is kept.
      servers: [{ url: publicBaseUrl(config.http) }],
      components: {
        securitySchemes: {
          OAuth2PasswordBearer: {
            type: 'oauth2',
            flows: {
              password: {
                tokenUrl: 'token',
                scopes: { me: 'Your own account', admin: 'Administer users' },
              },
            },
          },
          // POST /introspect: a registered API client's id and secret (RFC 7662 2.1).
          ApiClientBasic: { type: 'http', scheme: 'basic' },
          // GET /metrics when GATEHOUSE_METRICS_TOKEN is set: that token, not an access token.
          ...(config.metrics.enabled && config.metrics.token
            ? { MetricsToken: { type: 'http', scheme: 'bearer' } }
            : {}),
        },
      },
    },
  });
  await registerLazySwaggerUi(app);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
