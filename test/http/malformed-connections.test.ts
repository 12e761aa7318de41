import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { testServerPerSuite } from '../support/test-app.ts';

// API.md 1: every error is JSON with a `detail`, however malformed the request. These requests
// are refused before any route runs: by Node's HTTP parser (answered by http/client-errors.ts)
// or by Fastify's body handling (http/errors.ts). They go over a real socket, since inject()
// never meets the parser, and after each the server still answers a well-formed request.

/** Sends `raw` as it is, half-closes, and reads the whole answer until the server closes. */
function exchange(port: number, raw: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A reset after the answer was read still leaves the answer to check.
    socket.on('error', (error: NodeJS.ErrnoException) =>
      chunks.length > 0 ? undefined : reject(error),
    );
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('connect', () => socket.end(raw));
  });
}

interface Answer {
  status: number;
  headers: string;
  body: unknown;
}

function parse(response: string): Answer {
  const split = response.indexOf('\r\n\r\n');
  assert.ok(split > 0, `an HTTP response: ${JSON.stringify(response.slice(0, 200))}`);
  const head = response.slice(0, split);
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]);
  return { status, headers: head.toLowerCase(), body: JSON.parse(response.slice(split + 4)) };
}

const HOST = 'Host: 127.0.0.1\r\n';
const JSON_POST = (extra: string, body = '') =>
  `POST /users/ HTTP/1.1\r\n${HOST}Content-Type: application/json\r\n${extra}\r\n${body}`;

const CASES: { name: string; raw: string | Buffer; status: number }[] = [
  { name: 'a request line that is not HTTP', raw: 'HELLO THERE\r\n\r\n', status: 400 },
  {
    name: 'an HTTP version that does not exist',
    raw: `GET / HTTP/7.3\r\n${HOST}\r\n`,
    status: 400,
  },
  {
    name: 'a space inside a header name',
    raw: `GET / HTTP/1.1\r\n${HOST}Bad Name: x\r\n\r\n`,
    status: 400,
  },
  {
    name: 'a control character in a header value',
    raw: `GET / HTTP/1.1\r\n${HOST}X-A: a\u0001b\r\n\r\n`,
    status: 400,
  },
  {
    name: 'a Content-Length that is not a number',
    raw: JSON_POST('Content-Length: abc\r\n'),
    status: 400,
  },
  {
    name: 'two different Content-Lengths',
    raw: JSON_POST('Content-Length: 2\r\nContent-Length: 3\r\n', '{}'),
    status: 400,
  },
  {
    name: 'both Content-Length and chunked Transfer-Encoding',
    raw: JSON_POST('Content-Length: 2\r\nTransfer-Encoding: chunked\r\n', '2\r\n{}\r\n0\r\n\r\n'),
    status: 400,
  },
  {
    name: 'a chunk size that is not hex',
    raw: JSON_POST('Transfer-Encoding: chunked\r\n', 'zz\r\n{}\r\n0\r\n\r\n'),
    status: 400,
  },
  {
    name: 'a Transfer-Encoding other than chunked last',
    raw: JSON_POST('Transfer-Encoding: chunked, gzip\r\n', '{}'),
    status: 400,
  },
  {
    name: 'headers over the size limit',
    raw: `GET /healthz HTTP/1.1\r\n${HOST}X-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`,
    status: 431,
  },
  {
    name: 'a URL over the header size limit',
    raw: `GET /${'a'.repeat(64 * 1024)} HTTP/1.1\r\n${HOST}\r\n`,
    status: 431,
  },
  // Fastify's own refusals, after the parser: answered by http/errors.ts.
  {
    name: 'a JSON body over the body limit',
    raw: JSON_POST(`Content-Length: ${64 * 1024 + 2}\r\n`, `"${'a'.repeat(64 * 1024)}"`),
    status: 413,
  },
  {
    name: 'a body shorter than its Content-Length',
    raw: JSON_POST('Content-Length: 50\r\n', '{}'),
    status: 400,
  },
  {
    name: 'a content type no route takes (422, as FastAPI answers it)',
    raw: `POST /users/ HTTP/1.1\r\n${HOST}Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi`,
    status: 422,
  },
];

describe('malformed requests over a real socket: a 4xx with a JSON detail, and the server lives', () => {
  const server = testServerPerSuite();

  for (const { name, raw, status } of CASES) {
    it(`answers ${status} to ${name}`, async () => {
      const answer = parse(await exchange(server.port, raw));
      assert.equal(answer.status, status, JSON.stringify(answer.body));
      assert.match(answer.headers, /\r\ncontent-type: application\/json/);
      const { detail } = answer.body as { detail?: unknown };
      assert.ok(
        (typeof detail === 'string' && detail.length > 0) || Array.isArray(detail),
        `a detail: ${JSON.stringify(answer.body)}`,
      );

      const healthy = parse(
        await exchange(server.port, `GET /healthz HTTP/1.1\r\n${HOST}Connection: close\r\n\r\n`),
      );
      assert.equal(healthy.status, 200, 'the server still answers afterwards');
    });
  }

  it('names the parser refusal in plain words and a code, and closes the connection', async () => {
    const answer = parse(await exchange(server.port, JSON_POST('Content-Length: abc\r\n')));
    assert.deepEqual(answer.body, {
      detail: 'Invalid Content-Length header',
      code: 'malformed_request',
    });
    assert.match(answer.headers, /\r\nconnection: close/);
    assert.match(answer.headers, /\r\nx-content-type-options: nosniff/);
  });
});
