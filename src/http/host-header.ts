import type { FastifyInstance } from 'fastify';
import { SECURITY_HEADERS } from './security-headers.ts';

const BODY = { detail: 'Missing Host header: HTTP/1.1 requires one', code: 'malformed_request' };

/**
 * RFC 9112 3.2: a server MUST answer 400 to an HTTP/1.1 request without a Host header. Node
 * does that itself by default (`requireHostHeader`), but with an empty body, before Fastify
 * sees the request; build-server.ts turns Node's check off so that this hook answers instead,
 * in the API's shape (API.md 1: every error is JSON with a `detail`). The app's first hook,
 * so nothing else runs for such a request: no CORS preflight answer, rate limit, body parsing
 * or route; hence it sets the security headers itself. As in Node, HTTP/1.0 needs no Host, and
 * the connection is closed after the answer.
 */
export function refuseRequestsWithoutHost(app: FastifyInstance): void {
  // A callback hook, not an async one: it runs for every request.
  app.addHook('onRequest', (request, reply, done) => {
    if (request.raw.headers.host !== undefined || request.raw.httpVersion !== '1.1') {
      done();
      return;
    }
    void reply.headers(SECURITY_HEADERS).code(400).header('connection', 'close').send(BODY);
  });
}
