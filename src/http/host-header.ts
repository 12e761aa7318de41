import type { FastifyInstance } from 'fastify';

const BODY = { detail: 'Missing Host header: HTTP/1.1 requires one', code: 'malformed_request' };

/**
 * RFC 9112 3.2: a server MUST answer 400 to an HTTP/1.1 request without a Host header. Node
 * does that itself by default (`requireHostHeader`), but with an empty body, before Fastify
 * sees the request; build-server.ts turns Node's check off so that this hook answers instead,
 * in the API's shape (API.md 1: every error is JSON with a `detail`). Registered before every
 * hook but the security headers', so no rate limit, body parsing or route runs for such a
 * request. As in Node, HTTP/1.0 needs no Host, and the connection is closed after the answer.
 */
export function refuseRequestsWithoutHost(app: FastifyInstance): void {
  // A callback hook, not an async one: it runs for every request.
  app.addHook('onRequest', (request, reply, done) => {
    const { raw } = request;
    if (
      raw.headers.host !== undefined ||
      raw.httpVersionMajor !== 1 ||
      raw.httpVersionMinor !== 1
    ) {
      done();
      return;
    }
    void reply.code(400).header('connection', 'close').send(BODY);
  });
}
