import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { testServerPerSuite } from '../support/test-app.ts';

const ONE_MB = Buffer.alloc(1024 * 1024, 'x');
const PARALLEL = 20;
const ROUNDS = 3;

interface RawResult {
  response: string;
  error: string | undefined;
}

const CHUNK = 64 * 1024;

/**
 * One request over its own socket, sent the way a client on a slower uplink does: the headers,
 * then the 1 MB body in 64 KiB pieces with a pause between, so the server has answered before
 * the body is all sent. Then reads until the server closes. A socket error (ECONNRESET, EPIPE)
 * is kept, not thrown, so every request's fate is reported.
 */
function postOversized(port: number, path: string, contentType: string): Promise<RawResult> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let response = '';
    let error: string | undefined;
    socket.on('data', (chunk: Buffer) => (response += chunk.toString()));
    socket.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
    socket.on('close', () => resolve({ response, error }));
    // Never rejects: a write on a socket the server closed reports through 'error' above.
    const send = async () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${contentType}\r\n` +
          `Content-Length: ${ONE_MB.length}\r\nConnection: close\r\n\r\n`,
      );
      for (let offset = 0; offset < ONE_MB.length && !socket.destroyed; offset += CHUNK) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        socket.write(ONE_MB.subarray(offset, offset + CHUNK));
      }
      if (!socket.destroyed) socket.end();
    };
    socket.on('connect', () => void send());
  });
}

// API.md: JSON bodies over the limit get 413. Answering early and closing at once resets the
// connection while the client is still sending, and the reset can destroy the 413 before the
// client reads it (RFC 9112 9.6: a server closes in stages, reading on after its response).
describe('bodies over the limit, sent over real sockets in parallel', () => {
  const suite = testServerPerSuite();

  for (const [path, contentType] of [
    ['/users/', 'application/json'],
    ['/token', 'application/x-www-form-urlencoded'],
  ] as const) {
    it(`answers every parallel 1 MB POST ${path} with its 413 JSON, never a reset`, async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const results = await Promise.all(
          Array.from({ length: PARALLEL }, () => postOversized(suite.port, path, contentType)),
        );
        for (const { response, error } of results) {
          assert.equal(error, undefined, `round ${round}: socket error ${error}`);
          assert.match(response, /^HTTP\/1\.1 413 /, `round ${round}: ${response.slice(0, 80)}`);
          const body = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as {
            detail: string;
            code: string;
            error?: string;
          };
          assert.equal(body.code, 'body_too_large');
          assert.equal(body.detail, 'Request body too large');
          // API.md 1 / RFC 6749 5.2: POST /token's errors carry `error`, this one answered
          // after the body was drained, outside the request's own steps.
          assert.equal(body.error, path === '/token' ? 'invalid_request' : undefined);
        }
      }
    });
  }
});
