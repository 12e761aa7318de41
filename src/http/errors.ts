import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError, type ErrorCode } from '../domain/errors.ts';
import { drainRequestBody } from './drain-request-body.ts';
import { RequestValidationError, toValidationIssues, type ValidationIssue } from './validation.ts';

interface ErrorResponse {
  status: number;
  /** Fixed client-facing text; when absent, the error's own (client-safe) message is sent. */
  detail?: string;
  /** Extra headers, e.g. the RFC 6750 challenge. */
  headers?: Record<string, string>;
  /** RFC 6749 5.2 error code, for /token failures. */
  oauthError?: string;
}

const BEARER = { 'www-authenticate': 'Bearer' };

/**
 * THE mapping from domain error code to HTTP. `satisfies` makes a new code without a
 * mapping a compile error.
 */
export const ERROR_RESPONSES = {
  invalid_input: { status: 422 },
  email_taken: { status: 400, detail: 'Email already registered' },
  // RFC 6749 5.2 allows 401 with a challenge for a failed client; the FastAPI contract uses it for users.
  invalid_credentials: { status: 401, detail: 'Incorrect username or password', headers: BEARER },
  not_authenticated: { status: 401, detail: 'Not authenticated', headers: BEARER },
  invalid_token: { status: 401, detail: 'Could not validate credentials', headers: BEARER },
  // RFC 6750 3.1: an expired token is `invalid_token`, described so clients know to refresh.
  token_expired: {
    status: 401,
    detail: 'The access token expired',
    headers: {
      'www-authenticate':
        'Bearer error="invalid_token", error_description="The access token expired"',
    },
  },
  permission_denied: { status: 403, detail: 'Not enough permissions' },
  not_found: { status: 404 },
  invalid_grant: { status: 400, oauthError: 'invalid_grant' },
  refresh_token_reused: { status: 400, oauthError: 'invalid_grant' },
  unsupported_grant_type: { status: 400, oauthError: 'unsupported_grant_type' },
  invalid_scope: { status: 400, oauthError: 'invalid_scope' },
  incorrect_password: { status: 400, detail: 'Incorrect password' },
  last_admin: { status: 409 },
  too_many_attempts: { status: 429, detail: 'Too many failed login attempts; try again later' },
  rate_limited: { status: 429, detail: 'Too many requests; try again later' },
  hashing_overloaded: { status: 503 },
  store_unavailable: { status: 503 },
} as const satisfies Record<ErrorCode, ErrorResponse>;

function sendGatehouseError(reply: FastifyReply, error: GatehouseError): FastifyReply {
  const mapping: ErrorResponse = ERROR_RESPONSES[error.code];
  if (error.code === 'invalid_input') {
    const issue: ValidationIssue = {
      loc: ['body', ...(error.field === undefined ? [] : [error.field])],
      msg: error.message,
      type: 'value_error',
    };
    return reply.code(422).send({ detail: [issue], code: error.code });
  }
  const detail = mapping.detail ?? error.message;
  if (mapping.headers) reply.headers(mapping.headers);
  if (error.retryAfterSeconds !== undefined) {
    reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  }
  const body = mapping.oauthError
    ? { error: mapping.oauthError, error_description: detail, detail, code: error.code }
    : { detail, code: error.code };
  return reply.code(mapping.status).send(body);
}

function sendValidation(reply: FastifyReply, issues: ValidationIssue[]): FastifyReply {
  return reply.code(422).send({ detail: issues });
}

/** Answers Fastify's own errors (parsing, limits) in the API's shape. */
function sendFrameworkError(
  request: FastifyRequest,
  reply: FastifyReply,
  error: FastifyError,
): FastifyReply | Promise<FastifyReply> {
  if (error.validation) {
    return sendValidation(
      reply,
      toValidationIssues(error.validationContext ?? 'body', error.validation),
    );
  }
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    // The rest of the body is read first, so closing after the 413 resets nothing.
    return drainRequestBody(request.raw).then(() =>
      reply.code(413).send({ detail: 'Request body too large', code: 'body_too_large' }),
    );
  }
  // API.md 1: as in FastAPI, a body that isn't valid JSON or form, or has the wrong content
  // type, is a 422 with the detail list (not 400 or 415).
  if (error.code?.startsWith('FST_ERR_CTP_') || error instanceof SyntaxError) {
    const msg =
      error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? `Unsupported content type: ${String(request.headers['content-type'] ?? 'none')}`
        : error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
          ? 'Body is empty but Content-Type is application/json'
          : `Body is not valid: ${error.message}`;
    return sendValidation(reply, [{ loc: ['body'], msg, type: 'body_parse_error' }]);
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return reply.code(status).send({ detail: error.message });
  }
  request.log.error({ err: error }, 'unhandled error');
  return reply.code(500).send({ detail: 'Internal Server Error' });
}

/**
 * Fastify's `frameworkErrors` option: errors its router answers before any route or error
 * handler runs (a malformed percent-encoding in the path, an overlong path parameter), in the
 * API's `{"detail": ...}` shape rather than Fastify's own.
 */
export function answerRouterError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  sendFrameworkError(request, reply, error);
}

/** Errors that are logged at warn level: signs of an attack, not of a client mistake. */
const SECURITY_EVENTS: ReadonlySet<ErrorCode> = new Set(['refresh_token_reused']);

/** Every error of every route is turned into a response here, and only here. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof GatehouseError) {
      if (SECURITY_EVENTS.has(error.code)) {
        // RFC 9700 4.14.2: a replayed refresh token means a copy exists; operators must see it.
        request.log.warn({ code: error.code, ip: request.ip }, error.message);
      } else if (error.code === 'store_unavailable') {
        // An outage: operators must see which store and why. The cause (storage's account of
        // it) names both and never holds a password (CWE-532).
        request.log.warn({ code: error.code, err: error.cause }, error.message);
      } else if (error.cause !== undefined) {
        request.log.debug({ code: error.code, cause: error.cause }, 'request failed');
      }
      request.errorCode = error.code;
      return sendGatehouseError(reply, error);
    }
    if (error instanceof RequestValidationError) return sendValidation(reply, error.issues);
    return sendFrameworkError(request, reply, error);
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ detail: 'Not Found' }));
}
