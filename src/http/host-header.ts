import type { FastifyInstance } from 'fastify';
import { SECURITY_HEADERS } from './security-headers.ts';

const MISSING = { detail: 'Missing Host header: HTTP/1.1 requires one', code: 'malformed_request' };
const SEVERAL = {
  detail: 'Several Host headers: a request may have only one',
  code: 'malformed_request',
};

/** Whether a raw header name is `host` in any case, without allocating a lowercased copy. */
function isHost(name: string): boolean {
  // `| 0x20` lowercases an ASCII letter; h o s t
  return (
    name.length === 4 &&
    (name.charCodeAt(0) | 0x20) === 0x68 &&
    (name.charCodeAt(1) | 0x20) === 0x6f &&
    (name.charCodeAt(2) | 0x20) === 0x73 &&
    (name.charCodeAt(3) | 0x20) === 0x74
  );
}

/** 0, 1 or 2 for more: `rawHeaders` keeps every Host line, where `headers.host` keeps the first. */
function countHostLines(rawHeaders: string[]): number {
  let count = 0;
  // Names at even indices, values at odd ones.
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (isHost(rawHeaders[i] as string) && ++count > 1) break;
  }
  return count;
}

/**
 * RFC 9112 3.2: a server MUST answer 400 to an HTTP/1.1 request without a Host header, and to
 * any request with more than one Host line. Node refuses a missing Host itself by default
 * (`requireHostHeader`), but with an empty body, before Fastify sees the request; build-server.ts
 * turns Node's check off so that this hook answers instead, in the API's shape (API.md 1:
 * every error is JSON with a `detail`). Several Host lines Node accepts, keeping the first,
 * while a proxy in front may have routed by another one. The app's first hook, so nothing else
 * runs for such a request: no CORS preflight answer, rate limit, body parsing or route; hence
 * it sets the security headers itself. As in Node, HTTP/1.0 needs no Host, and the connection
 * is closed after the answer.
 */
export function refuseBadHostHeaders(app: FastifyInstance): void {
  // A callback hook, not an async one: it runs for every request.
  app.addHook('onRequest', (request, reply, done) => {
    const { raw } = request;
    const hosts = countHostLines(raw.rawHeaders);
    if (hosts === 1 || (hosts === 0 && raw.httpVersion !== '1.1')) {
      done();
      return;
    }
    const body = hosts === 0 ? MISSING : SEVERAL;
    void reply.headers(SECURITY_HEADERS).code(400).header('connection', 'close').send(body);
  });
}
