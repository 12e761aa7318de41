import Fastify, {
  type FastifyInstance,
  type FastifyPluginAsync,
  type RouteHandlerMethod,
} from 'fastify';

const PREFIX = '/docs';

/**
 * The routes @fastify/swagger-ui registers under its prefix, with their methods (the static
 * files' wildcard names HEAD itself; Fastify adds it to the others). Registered here at start,
 * so the router, 405's Allow header and the metrics' route labels are what they were; checked
 * against the package's own when it loads.
 */
const ROUTES: readonly { method: 'GET' | ['HEAD', 'GET']; url: string }[] = [
  { method: 'GET', url: '/' },
  { method: 'GET', url: '/static/index.html' },
  { method: 'GET', url: '/static/swagger-initializer.js' },
  { method: 'GET', url: '/json' },
  { method: 'GET', url: '/yaml' },
  { method: ['HEAD', 'GET'], url: '/static/*' },
];

interface SwaggerUi {
  /** The package's handler for each route URL (prefix included). */
  handlers: ReadonlyMap<string, RouteHandlerMethod>;
  /** Swagger UI's static CSP, which its pages send instead of the API's. */
  csp: string;
  ui: FastifyInstance;
}

/**
 * Swagger UI at /docs, with @fastify/swagger-ui (and @fastify/static, yaml) loaded on the first
 * request there rather than at start (issue 21: 3-4 MB of RSS that most servers never use).
 * Fastify takes no route once it is ready, so the routes are the ones above, and the first
 * request registers the package on a second, private Fastify instance, built once, whose route
 * handlers then answer the app's requests on the app's own request and reply: the app's
 * hooks, error and not-found handlers apply as they did when the package was registered here.
 */
export async function registerLazySwaggerUi(app: FastifyInstance): Promise<void> {
  let loading: Promise<SwaggerUi> | undefined;
  let loaded: SwaggerUi | undefined;
  const load = () => {
    // One load for concurrent first requests; a failed one is tried again by the next request.
    loading ??= loadSwaggerUi(app).then(
      (swaggerUi) => (loaded = swaggerUi),
      (error: unknown) => {
        loading = undefined;
        throw error;
      },
    );
    return loading;
  };

  const handler: RouteHandlerMethod = async function (request, reply) {
    const { handlers } = await load();
    await handlers.get(request.routeOptions.url!)!.call(this, request, reply);
    // Settles when the response is sent (streamed files, asynchronous errors included).
    return reply;
  };

  await app.register(
    async (docs) => {
      // OWASP ASVS 14.4.3: the docs pages send Swagger UI's CSP (hashes of its inline code),
      // which replaces the API's deny-all one, on everything under /docs, errors included.
      docs.addHook('onSend', (_request, reply, payload, done) => {
        if (loaded) reply.header('content-security-policy', loaded.csp);
        done(null, payload);
      });
      for (const { method, url } of ROUTES) {
        docs.route({ method, url, schema: { hide: true }, handler });
      }
    },
    { prefix: PREFIX },
  );
  app.addHook('onClose', async () => {
    await loaded?.ui.close();
  });
}

async function loadSwaggerUi(app: FastifyInstance): Promise<SwaggerUi> {
  const { default: swaggerUi } = await import('@fastify/swagger-ui');
  const ui = Fastify({ logger: false });
  // swagger-ui depends on a plugin named @fastify/swagger and reads the document through its
  // `swagger()`: here the app's, so /docs/json is /openapi.json. (What fastify-plugin marks.)
  const appDocument: FastifyPluginAsync = async (instance) => {
    instance.decorate('swagger', app.swagger.bind(app));
  };
  Object.assign(appDocument, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('plugin-meta')]: { name: '@fastify/swagger' },
  });
  const handlers = new Map<string, RouteHandlerMethod>();
  ui.addHook('onRoute', (route) => {
    handlers.set(route.url, route.handler as RouteHandlerMethod);
  });
  await ui.register(appDocument);
  await ui.register(swaggerUi, {
    routePrefix: PREFIX,
    uiConfig: { persistAuthorization: false },
    staticCSP: true,
  });
  await ui.ready();

  const theirs = new Set([...handlers.keys()].map((url) => url.replace(/(.)\/$/, '$1')));
  const ours = new Set(ROUTES.map(({ url }) => `${PREFIX}${url}`.replace(/(.)\/$/, '$1')));
  if (theirs.size !== ours.size || [...ours].some((url) => !theirs.has(url))) {
    throw new Error(`@fastify/swagger-ui's routes are ${[...theirs].join(', ')}, not ours`);
  }
  // The CSP its onSend hook sets, on a response that costs nothing (a redirect).
  const probe = await ui.inject({ method: 'GET', url: `${PREFIX}/static/index.html` });
  const csp = probe.headers['content-security-policy'];
  if (typeof csp !== 'string') throw new Error('@fastify/swagger-ui sent no CSP');
  return { handlers, csp, ui };
}
