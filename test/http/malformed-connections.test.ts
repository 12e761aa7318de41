import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { register, STRONG_PASSWORD, uniqueEmail } from '../support/client.ts';
import { assertJsonDetail, exchange, parse } from '../support/raw-http.ts';
import { testServerPerSuite } from '../support/test-app.ts';

// API.md 1: every error is JSON with a `detail`, however malformed the request. These requests
// are refused before any route runs: by Node's HTTP parser (answered by http/client-errors.ts)
// or by Fastify's body handling (http/errors.ts). They go over a real socket, since inject()
// never meets the parser, and after each the server still answers a well-formed request.

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
  const suite = testServerPerSuite();

  for (const { name, raw, status } of CASES) {
    it(`answers ${status} to ${name}`, async () => {
      assertJsonDetail(parse(await exchange(suite.port, raw)), status);

      const healthy = parse(
        await exchange(suite.port, `GET /healthz HTTP/1.1\r\n${HOST}Connection: close\r\n\r\n`),
      );
      assert.equal(healthy.status, 200, 'the server still answers afterwards');
    });
  }

  it('names the parser refusal in plain words and a code, and closes the connection', async () => {
    const answer = parse(await exchange(suite.port, JSON_POST('Content-Length: abc\r\n')));
    assert.deepEqual(answer.body, {
      detail: 'Invalid Content-Length header',
      code: 'malformed_request',
    });
    assert.match(answer.headers, /\r\nconnection: close/);
    assert.match(answer.headers, /\r\nx-content-type-options: nosniff/);
  });

  // RFC 9112 3.2: a server MUST answer 400 to an HTTP/1.1 request without a Host header.
  it('answers 400 with a JSON detail to an HTTP/1.1 request without a Host header', async () => {
    const answer = parse(await exchange(suite.port, 'GET /users/me/ HTTP/1.1\r\n\r\n'));
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.deepEqual(answer.body, {
      detail: 'Missing Host header: HTTP/1.1 requires one',
      code: 'malformed_request',
    });
    assert.match(answer.headers, /\r\ncontent-type: application\/json/);
    assert.match(answer.headers, /\r\nconnection: close/);
    assert.match(answer.headers, /\r\nx-content-type-options: nosniff/);
  });

  // /healthz declares its own 4xx answer, which the refusal must also fit.
  it('answers 400 with a JSON detail to a request for /healthz without a Host header', async () => {
    const answer = parse(await exchange(suite.port, 'GET /healthz HTTP/1.1\r\n\r\n'));
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.deepEqual(answer.body, {
      detail: 'Missing Host header: HTTP/1.1 requires one',
      code: 'malformed_request',
    });
  });

  it('runs no route for an HTTP/1.1 request without a Host header', async () => {
    const email = uniqueEmail('hostless');
    const body = JSON.stringify({ email, password: STRONG_PASSWORD });
    const raw =
      'POST /users/ HTTP/1.1\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    assert.equal(parse(await exchange(suite.port, raw)).status, 400);
    // Had the registration run, the address would be taken now.
    assert.equal((await register(suite.t.app, email)).statusCode, 200);
  });

  // RFC 9112 3.2: ... and to any request message that contains more than one Host header field
  // line. Node keeps the first; a proxy in front may have routed by the second.
  const SEVERAL_HOSTS = {
    detail: 'Several Host headers: a request may have only one',
    code: 'malformed_request',
  };
  for (const [name, hosts, version] of [
    ['two Host lines naming different hosts', 'Host: 127.0.0.1\r\nHost: evil.example\r\n', '1.1'],
    ['two Host lines with the same value', 'Host: 127.0.0.1\r\nhost: 127.0.0.1\r\n', '1.1'],
    [
      'Host lines apart, in another case',
      'Host: 127.0.0.1\r\nX-A: 1\r\nHOST: a.example\r\n',
      '1.1',
    ],
    ['two Host lines in HTTP/1.0', 'Host: 127.0.0.1\r\nHost: evil.example\r\n', '1.0'],
  ] as const) {
    it(`answers 400 with a JSON detail to ${name}`, async () => {
      const answer = parse(
        await exchange(suite.port, `GET /healthz HTTP/${version}\r\n${hosts}\r\n`),
      );
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.deepEqual(answer.body, SEVERAL_HOSTS);
      assert.match(answer.headers, /\r\ncontent-type: application\/json/);
      assert.match(answer.headers, /\r\nconnection: close/);
      assert.match(answer.headers, /\r\nx-content-type-options: nosniff/);
    });
  }

  it('runs no route for a request with two Host lines', async () => {
    const email = uniqueEmail('twohosts');
    const body = JSON.stringify({ email, password: STRONG_PASSWORD });
    const raw =
      `POST /users/ HTTP/1.1\r\n${HOST}${HOST}Content-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    assert.equal(parse(await exchange(suite.port, raw)).status, 400);
    // Had the registration run, the address would be taken now.
    assert.equal((await register(suite.t.app, email)).statusCode, 200);
  });

  it('answers a request with one Host line and a header ending in "host" as usual', async () => {
    const raw = `GET /healthz HTTP/1.1\r\n${HOST}X-Forwarded-Host: a.example\r\nConnection: close\r\n\r\n`;
    assert.equal(parse(await exchange(suite.port, raw)).status, 200);
  });

  it('answers an HTTP/1.0 request without a Host header as usual (only HTTP/1.1 needs one)', async () => {
    const answer = parse(await exchange(suite.port, 'GET /healthz HTTP/1.0\r\n\r\n'));
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { status: 'ok' });
  });
});

describe('a request without Host, with CORS on: refused before the CORS preflight answer', () => {
  const suite = testServerPerSuite({ env: { GATEHOUSE_CORS_ORIGINS: 'https://app.example.com' } });

  it('answers 400 with a JSON detail to a preflight without a Host header', async () => {
    const raw =
      'OPTIONS /users/me/ HTTP/1.1\r\nOrigin: https://app.example.com\r\n' +
      'Access-Control-Request-Method: GET\r\n\r\n';
    const answer = parse(await exchange(suite.port, raw));
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.deepEqual(answer.body, {
      detail: 'Missing Host header: HTTP/1.1 requires one',
      code: 'malformed_request',
    });
    assert.match(answer.headers, /\r\nx-content-type-options: nosniff/);
  });
});
