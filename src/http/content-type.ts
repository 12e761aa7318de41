import type { FastifyInstance, preValidationAsyncHookHandler } from 'fastify';
import { RequestValidationError } from './validation.ts';

const MEDIA_TYPES = {
  json: 'application/json',
  form: 'application/x-www-form-urlencoded',
} as const;

/**
 * Fastify parses any registered content type on any route; an endpoint of the contract takes
 * exactly one (JSON for /users/, a form for /token, as in FastAPI), and anything else is a 422.
 */
export function requireContentType(kind: keyof typeof MEDIA_TYPES): preValidationAsyncHookHandler {
  const expected = MEDIA_TYPES[kind];
  return async (request) => {
    const header = request.headers['content-type'];
    const mediaType =
      typeof header === 'string' ? header.split(';')[0]?.trim().toLowerCase() : undefined;
    if (mediaType !== expected) {
      throw new RequestValidationError([
        {
          loc: ['body'],
          msg: `Expected a body with Content-Type: ${expected}`,
          type: 'content_type',
        },
      ]);
    }
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Fastify's JSON parser, fed only valid UTF-8. Its default decoding turns invalid bytes into
 * U+FFFD, so different byte strings would become one password; RFC 8259 8.1 requires UTF-8,
 * and a body that isn't valid JSON is a 422 (API.md 1; http/errors.ts answers SyntaxError).
 */
export function useStrictUtf8Json(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(new SyntaxError('Body is not valid UTF-8'), undefined);
      return;
    }
    // Fastify's default parser is callback-style (it calls `done` and returns nothing); its type
    // is a union with the promise-returning parser kind, hence `void`, not a floating promise.
    void parseJson(request, text, done);
  });
}
