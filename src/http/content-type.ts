import type { preValidationAsyncHookHandler } from 'fastify';
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
