import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyInstance } from 'fastify';

/** How long a refused connection may stay half-closed for the client to read the answer. */
const LINGER_MS = 2_000;

const REFUSAL_HEADERS = {
  'Content-Type': 'application/json; charset=utf-8',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  Connection: 'close',
};

/** The body and headers of a refusal made outside Fastify, in the API's shape. */
function refusal(detail: string, code: string): [body: string, headers: Record<string, string>] {
  const body = JSON.stringify({ detail, code });
  return [body, { ...REFUSAL_HEADERS, 'Content-Length': String(Buffer.byteLength(body)) }];
}

/**
 * Writes a refusal on a socket that no Fastify reply owns, then ends it, giving the client a
 * moment to read the answer before it is destroyed.
 */
function refuse(socket: Socket, status: number, detail: string, code: string): void {
  if (socket.writable) {
    const [body, headers] = refusal(detail, code);
    const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${lines.join('')}\r\n${body}`);
  }
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/** Status, `detail` and `code` for an error of Node's HTTP parser (llhttp's `HPE_*` codes). */
function describe(code: string): [status: number, detail: string, code: string] {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'The request took too long to arrive', 'request_timeout'];
    // The request line and headers together are over Node's --max-http-header-size.
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'Request headers too large', 'headers_too_large'];
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return [400, 'Invalid Content-Length header', 'malformed_request'];
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_INVALID_CHUNK_SIZE':
      return [400, 'Invalid Transfer-Encoding or chunked body', 'malformed_request'];
    default:
      return [400, 'Malformed HTTP request', 'malformed_request'];
  }
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses before there is a request
 * for any route, hook or error handler (a malformed request line or header, a bad
 * Content-Length, headers over the size limit, a request too slow to arrive). Fastify's default
 * answers JSON without a `detail`; this answers in the API's shape (API.md 1: every error is
 * JSON with a `detail`). The connection can't be parsed any further (RFC 9112 6.3, 11.2: a
 * framing error must close it), so the answer says `Connection: close` and the socket is ended,
 * giving the client a moment to read the answer before it is destroyed.
 *
 * Nothing of the request is logged: its raw bytes may hold an Authorization header or a
 * password (CWE-532), so only the parser's code is.
 */
export function answerClientError(
  this: FastifyInstance,
  error: ConnectionError,
  socket: Socket,
): void {
  // The client went away, or the socket is gone: nobody to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, detail, code] = describe(error.code);
  this.log.debug({ code: error.code }, 'malformed request refused');
  refuse(socket, status, detail, code);
}

/**
 * Node's answers of its own, made before Fastify sees a request, in the API's shape (API.md 1)
 * instead of Node's: an empty 417 for an `Expect` other than `100-continue`, and no answer at
 * all (the socket destroyed) for a CONNECT.
 */
export function answerNodeRefusals(server: Server): void {
  // RFC 9110 10.1.1: a server MAY answer 417 to an expectation it does not meet. The body may
  // follow unread, so the connection is closed after the answer.
  server.on('checkExpectation', (_request: IncomingMessage, response: ServerResponse) => {
    const [body, headers] = refusal(
      'Unsupported Expect header: only 100-continue is supported',
      'expectation_failed',
    );
    response.writeHead(417, headers).end(body);
  });
  // RFC 9110 9.3.6: CONNECT asks for a tunnel, which Gatehouse, not being a proxy, never opens;
  // 15.6.2: 501 is the answer to a method the server does not support for any resource.
  server.on('connect', (_request: IncomingMessage, socket: Socket) => {
    refuse(socket, 501, 'CONNECT is not supported: this server is not a proxy', 'not_implemented');
  });
}
