import type { FastifyInstance } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';

// The order the Allow header lists methods in; any other comes after, alphabetically.
const ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
const rank = (method: string) => (ORDER.includes(method) ? ORDER.indexOf(method) : ORDER.length);

/**
 * RFC 9110 15.5.6: a request whose path names a resource but whose method it doesn't support
 * is 405 with an Allow header, not 404. Fastify's router only says that nothing matched, so
 * this keeps a second router (find-my-way, Fastify's own, with the app's router options) fed
 * every route as it is added (`onRoute`, so call before any route), and returns a function that
 * gives the methods a path answers to: those for which a route matches it, as Fastify's router
 * would match it (parameters, wildcards, the trailing slash ignored). Fastify adds HEAD for
 * every GET route (exposeHeadRoutes) through onRoute too, so HEAD is listed where it is served.
 *
 * OPTIONS routes are left out: @fastify/cors answers preflights with an `OPTIONS *` route,
 * which would match every path (and answers an OPTIONS that is no preflight itself).
 */
export function allowedMethodsOf(app: FastifyInstance): (url: string) => string[] {
  const { routerOptions } = app.initialConfig;
  const router = FindMyWay({
    ignoreTrailingSlash: routerOptions?.ignoreTrailingSlash ?? false,
    ignoreDuplicateSlashes: routerOptions?.ignoreDuplicateSlashes ?? false,
    maxParamLength: routerOptions?.maxParamLength ?? 100,
    caseSensitive: app.initialConfig.caseSensitive ?? true,
  });
  const methods = new Set<HTTPMethod>();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat() as HTTPMethod[]) {
      if (method === 'OPTIONS') continue;
      methods.add(method);
      // Fastify refused a duplicate already; one here is a spelling it merges (`/a`, `/a/`).
      if (!router.hasRoute(method, route.url)) router.on(method, route.url, () => {});
    }
  });
  return (url) =>
    // RFC 9112 3.2.4: the asterisk-form (`M-SEARCH *`) names the server, not a resource.
    url === '*'
      ? []
      : [...methods]
          .filter((method) => router.find(method, url) !== null)
          .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}
