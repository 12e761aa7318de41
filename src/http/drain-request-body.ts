import type { IncomingMessage } from 'node:http';

// Enough for any body a client might reasonably send by mistake; past either bound the client
// is not making a mistake, and the connection is closed without waiting for it.
const DRAIN_MAX_BYTES = 16 * 1024 * 1024;
const DRAIN_MAX_MS = 5000;

/**
 * Reads and discards the rest of a request body that will not be used, so the response can be
 * sent before the connection closes without resetting it.
 *
 * A 413 goes out with `Connection: close` while the client may still be sending. Closing a
 * socket that has unread bytes makes the kernel answer with a TCP reset, and a reset can reach
 * the client before it has read the 413, or fail its next write (ECONNRESET, EPIPE). RFC 9112
 * 9.6: a server closes in stages and keeps reading until the client has seen the response.
 * Resolves when the body has ended, or when the bounds above are reached (CWE-400: a client
 * can't hold the connection open longer than that by trickling bytes).
 */
export function drainRequestBody(request: IncomingMessage): Promise<void> {
  if (request.readableEnded || request.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let received = 0;
    const finish = () => {
      clearTimeout(timer);
      request.off('data', count);
      request.off('end', finish);
      request.off('close', finish);
      request.off('error', finish);
      resolve();
    };
    const count = (chunk: Buffer) => {
      received += chunk.length;
      if (received > DRAIN_MAX_BYTES) finish();
    };
    const timer = setTimeout(finish, DRAIN_MAX_MS);
    request.on('data', count);
    request.once('end', finish);
    request.once('close', finish);
    request.once('error', finish);
    request.resume();
  });
}
