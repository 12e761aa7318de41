import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/**
 * GET /openapi.json and the Swagger UI at /docs (API.md 5). The security scheme is FastAPI's:
 * an OAuth2 password flow whose tokenUrl is `token`, resolved against /openapi.json, so the
 * Authorize button logs in through POST /token.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Gatehouse',
        version: '0.1.0',
        description:
          'Self-hostable authentication and user management (OAuth2 password flow with JWT).',
      },
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
        },
      },
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { persistAuthorization: false },
    staticCSP: true,
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
