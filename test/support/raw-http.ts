import assert from 'node:assert/strict';
import { connect } from 'node:net';

/** Sends `raw` as it is, half-closes, and reads the whole answer until the server closes. */
export function exchange(port: number, raw: string | Buffer): Promise<string> {
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

export interface Answer {
  status: number;
  /** The status line and headers, lowercased. */
  headers: string;
  body: unknown;
}

/** One HTTP/1.1 response with a JSON body. */
export function parse(response: string): Answer {
  const split = response.indexOf('\r\n\r\n');
  assert.ok(split > 0, `an HTTP response: ${JSON.stringify(response.slice(0, 200))}`);
  const head = response.slice(0, split);
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]);
  return { status, headers: head.toLowerCase(), body: JSON.parse(response.slice(split + 4)) };
}

/** API.md 1: an error answer is `status`, JSON, with a `detail` (a string, or the 422 list). */
export function assertJsonDetail(answer: Answer, status: number): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.match(answer.headers, /\r\ncontent-type: application\/json/);
  const { detail } = answer.body as { detail?: unknown };
  assert.ok(
    (typeof detail === 'string' && detail.length > 0) || Array.isArray(detail),
    `a detail: ${JSON.stringify(answer.body)}`,
  );
}
