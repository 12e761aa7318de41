import type { FastifyInstance } from 'fastify';
import { GatehouseError } from '../domain/errors.ts';

/** Seconds a client refused during shutdown waits: a restart, or another instance, is near. */
const RETRY_AFTER_SECONDS = 1;

/**
 * From the moment `app.close()` begins, every new request is refused 503 by the error handler
 * (http/errors.ts, code `shutting_down`) in the API's shape, with `Connection: close` and
 * `Retry-After`, while requests already in flight finish. Fastify's own `return503OnClosing`
 * answers a body without a `detail` (API.md 1), so build-server.ts turns it off and this
 * replaces it. It answers at once: no rate limit, body or route runs, so closing is not delayed.
 * Its hook comes after the security headers', so the refusal carries them.
 */
export function refuseRequestsWhileClosing(app: FastifyInstance): void {
  let closing = false;
  // preClose runs as close() begins, before the server stops accepting and in-flight requests
  // are waited for.
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // A callback hook, not an async one: it runs for every request.
  app.addHook('onRequest', (_request, _reply, done) => {
    if (!closing) {
      done();
      return;
    }
    done(
      new GatehouseError('shutting_down', 'The server is shutting down', {
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      }),
    );
  });
}
