import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { STRONG_PASSWORD, uniqueEmail } from '../support/client.ts';
import { assertJsonDetail, exchange, parse, type Answer } from '../support/raw-http.ts';
import { startTestServer, testServerPerSuite } from '../support/test-app.ts';

// API.md 1: every error is JSON with a `detail`. These are the answers Fastify or Node would
// otherwise make themselves, before or instead of any route: over a real socket, since
// inject() never meets Node's parser or a closing server.

const HOST = 'Host: 127.0.0.1\r\n';

/** The answers in `response`, one after the other, each read by its Content-Length. */
function splitAnswers(response: string): Answer[] {
  const answers: Answer[] = [];
  let rest = response;
  while (rest.length > 0) {
    const split = rest.indexOf('\r\n\r\n');
    const length = Number(/\r\ncontent-length: (\d+)/i.exec(rest.slice(0, split))?.[1] ?? 0);
    const end = split + 4 + length;
    answers.push(parse(rest.slice(0, end)));
    rest = rest.slice(end);
  }
  return answers;
}

describe('a request that arrives while the server is closing', () => {
  // A route, and the not-found handler, which Fastify runs apart from the routes.
  for (const path of ['/healthz', '/nowhere']) {
    it(`is answered 503 with a JSON detail and Connection: close (${path}); the one in flight finishes`, async () => {
      const t = await startTestServer();
      const socket: Socket = connect(Number(new URL(t.url).port), '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      await new Promise<void>((resolve) => socket.once('connect', resolve));

      // A registration whose body arrives in two parts. Node answers `100 Continue` once it has
      // handed the request to Fastify, so the request is in flight before the close begins.
      const email = uniqueEmail('closing');
      const body = JSON.stringify({ email, password: STRONG_PASSWORD });
      const half = Math.floor(body.length / 2);
      socket.write(
        `POST /users/ HTTP/1.1\r\n${HOST}Content-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n` +
          body.slice(0, half),
      );
      await new Promise<void>((resolve) => {
        const check = () =>
          Buffer.concat(chunks).toString().includes('100 Continue') ? resolve() : undefined;
        socket.on('data', check);
        check();
      });
      chunks.length = 0;

      const closing = t.close();
      // The rest of the registration, and a second request on the same kept-alive connection.
      socket.write(`${body.slice(half)}GET ${path} HTTP/1.1\r\n${HOST}\r\n`);
      await closed;
      await closing;

      const [inFlight, refused, ...more] = splitAnswers(Buffer.concat(chunks).toString('utf8'));
      assert.equal(more.length, 0);
      assert.equal(inFlight?.status, 200, JSON.stringify(inFlight?.body));
      assert.equal((inFlight?.body as { email?: string }).email, email);
      assert.ok(refused, 'the second request was answered');
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      assert.deepEqual(refused.body, {
        detail: 'The server is shutting down; retry the request',
        code: 'shutting_down',
      });
      assert.match(refused.headers, /\r\ncontent-type: application\/json/);
      assert.match(refused.headers, /\r\nconnection: close/);
      assert.match(refused.headers, /\r\nretry-after: 1/);
      assert.match(refused.headers, /\r\nx-content-type-options: nosniff/);
    });
  }
});

const CASES: { name: string; raw: string; status: number }[] = [
  { name: 'an unknown path', raw: `GET /nowhere HTTP/1.1\r\n${HOST}\r\n`, status: 404 },
  // RFC 9110 15.5.6: a path that has routes, with another method (method-not-allowed.test.ts).
  {
    name: 'a method the path has no route for',
    raw: `DELETE /healthz HTTP/1.1\r\n${HOST}\r\n`,
    status: 405,
  },
  {
    name: 'a method no route takes (PROPFIND)',
    raw: `PROPFIND /users/ HTTP/1.1\r\n${HOST}\r\n`,
    status: 405,
  },
  {
    name: 'OPTIONS without CORS configured',
    raw:
      `OPTIONS /users/ HTTP/1.1\r\n${HOST}Origin: https://a.example\r\n` +
      'Access-Control-Request-Method: POST\r\n\r\n',
    status: 404,
  },
  { name: 'OPTIONS *', raw: `OPTIONS * HTTP/1.1\r\n${HOST}\r\n`, status: 404 },
  { name: 'M-SEARCH *', raw: `M-SEARCH * HTTP/1.1\r\n${HOST}\r\n`, status: 404 },
  // Fastify requires a body, hence a Content-Type, of QUERY before it routes.
  {
    name: 'QUERY without a Content-Type',
    raw: `QUERY /users/ HTTP/1.1\r\n${HOST}\r\n`,
    status: 400,
  },
  { name: 'TRACE', raw: `TRACE /healthz HTTP/1.1\r\n${HOST}\r\n`, status: 405 },
  {
    name: 'an unsupported content type (422, as FastAPI answers it)',
    raw: `POST /users/ HTTP/1.1\r\n${HOST}Content-Type: application/xml\r\nContent-Length: 4\r\n\r\n<a/>`,
    status: 422,
  },
  {
    name: 'a JSON body over the body limit',
    raw: `POST /users/ HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nContent-Length: ${
      64 * 1024 + 2
    }\r\n\r\n"${'a'.repeat(64 * 1024)}"`,
    status: 413,
  },
  {
    name: 'a body on a GET',
    raw: `GET /users/me/ HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
    status: 401,
  },
  {
    name: 'a malformed JSON body on a GET that needs a token',
    raw: `GET /users/me/ HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nContent-Length: 1\r\n\r\n{`,
    status: 401,
  },
  {
    name: 'an invalid percent-encoding in the path',
    raw: `GET /users/%zz HTTP/1.1\r\n${HOST}\r\n`,
    status: 400,
  },
  {
    name: 'an invalid percent-encoding in the query',
    raw: `GET /users/me/?a=%zz HTTP/1.1\r\n${HOST}\r\n`,
    status: 401,
  },
  {
    name: 'a path parameter over the length limit',
    raw: `GET /admin/users/${'1'.repeat(500)} HTTP/1.1\r\n${HOST}\r\n`,
    status: 404,
  },
  {
    name: 'a long URL within the header limit',
    raw: `GET /${'a'.repeat(8000)} HTTP/1.1\r\n${HOST}\r\n`,
    status: 404,
  },
  {
    name: 'a URL over the header limit (431: RFC 9110 414 is for URLs the parser takes)',
    raw: `GET /${'a'.repeat(64 * 1024)} HTTP/1.1\r\n${HOST}\r\n`,
    status: 431,
  },
  {
    name: 'an absolute-form URL',
    raw: `GET http://127.0.0.1/nowhere HTTP/1.1\r\n${HOST}\r\n`,
    status: 404,
  },
  {
    name: 'an expectation other than 100-continue',
    raw: `GET /healthz HTTP/1.1\r\n${HOST}Expect: teapot\r\n\r\n`,
    status: 417,
  },
  {
    name: 'CONNECT (501: not a proxy)',
    raw: `CONNECT 127.0.0.1:443 HTTP/1.1\r\n${HOST}\r\n`,
    status: 501,
  },
  {
    name: 'the HTTP/2 preface on an HTTP/1.1 port',
    raw: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
    status: 400,
  },
];

describe('every answer Fastify or Node would make itself is JSON with a `detail`', () => {
  const suite = testServerPerSuite();

  for (const { name, raw, status } of CASES) {
    it(`answers ${status} with a JSON detail to ${name}`, async () => {
      assertJsonDetail(parse(await exchange(suite.port, raw)), status);
    });
  }

  it('answers HEAD of an unknown path 404 with a JSON content type and no body', async () => {
    const response = await exchange(
      suite.port,
      `HEAD /nowhere HTTP/1.1\r\n${HOST}Connection: close\r\n\r\n`,
    );
    assert.match(response, /^HTTP\/1\.1 404 /);
    assert.match(response.toLowerCase(), /\r\ncontent-type: application\/json/);
    assert.ok(response.endsWith('\r\n\r\n'), 'no body');
  });
});
