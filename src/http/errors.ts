import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError, type ErrorCode } from '../domain/errors.ts';
import { allowedMethodsOf } from './allowed-methods.ts';
import { drainRequestBody } from './drain-request-body.ts';
import { RequestValidationError, toValidationIssues, type ValidationIssue } from './validation.ts';

interface ErrorResponse {
  status: number;
  /** Fixed client-facing text; when absent, the error's own (client-safe) message is sent. */
  detail?: string;
  /** Extra headers, e.g. the RFC 6750 challenge. */
  headers?: Record<string, string>;
  /**
   * RFC 6749 5.2 error code, sent with this error on every route. On an OAuth endpoint the
   * errors without one get `OAUTH_ERROR_BY_STATUS`'s.
   */
  oauthError?: string;
  /** The body's `code` when the contract names another than the domain's (API.md 8). */
  bodyCode?: string;
}

const BEARER = { 'www-authenticate': 'Bearer' };

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * An OAuth2 endpoint (POST /token): every error also carries RFC 6749 5.2's `error` and
     * `error_description` beside `detail` (API.md 1).
     */
    oauthErrors?: boolean;
  }
  interface FastifyRequest {
    /** The GatehouseError code a request failed with; set here, counted by metrics.ts. */
    errorCode: string | undefined;
  }
}

/**
 * RFC 6749 5.2: the `error` of an OAuth endpoint's failure whose code has no `oauthError` of
 * its own, by status. 5.2 defines no code for "try again later" or for a crash; those are
 * 4.1.2.1's `temporarily_unavailable` and `server_error`, which OAuth2 libraries know.
 */
const OAUTH_ERROR_BY_STATUS: Readonly<Record<number, string>> = {
  // The FastAPI contract answers wrong user credentials 401 (invalid_credentials): to RFC 6749
  // that is a bad resource owner password grant, not a failed client authentication.
  401: 'invalid_grant',
  403: 'invalid_grant',
  429: 'temporarily_unavailable',
  500: 'server_error',
  503: 'temporarily_unavailable',
};

// RFC 6749 5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E.
const NOT_DESCRIPTION_CHARACTER = /[^\x20\x21\x23-\x5b\x5d-\x7e]/g;

/** The RFC 6749 5.2 fields of a failure, for bodies that lack them. */
function oauthFields(status: number, description: string, error?: string) {
  return {
    // 400, 413, 422 and anything else: the request itself is at fault.
    error: error ?? OAUTH_ERROR_BY_STATUS[status] ?? 'invalid_request',
    error_description: description.replace(NOT_DESCRIPTION_CHARACTER, '?'),
  };
}

/**
 * Sends an error body; on an OAuth endpoint (route config `oauthErrors`), with `error` and
 * `error_description` added beside `detail`, so OAuth2 client libraries see a failure rather
 * than a token (API.md 1). A body that has them already keeps its own.
 */
function sendError(
  oauth: boolean,
  reply: FastifyReply,
  status: number,
  body: { detail: string | ValidationIssue[]; code?: string; error?: string },
): FastifyReply {
  if (!oauth || body.error !== undefined) {
    // Every other route: the body as it is (a rejected bearer token is an attacker's cheapest
    // request, so nothing is built for it that is not sent).
    return reply.code(status).send(body);
  }
  const description =
    typeof body.detail === 'string'
      ? body.detail
      : body.detail.map((i) => `${i.loc.join('.')}: ${i.msg}`).join('; ');
  return reply.code(status).send({ ...body, ...oauthFields(status, description) });
}

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
  // RFC 6749 5.2: a failed client authentication by HTTP Basic is 401 with a Basic challenge.
  invalid_client: {
    status: 401,
    detail: 'Client authentication failed',
    headers: { 'www-authenticate': 'Basic realm="gatehouse"' },
    oauthError: 'invalid_client',
  },
  invalid_request: { status: 400, oauthError: 'invalid_request' },
  refresh_token_reused: { status: 400, oauthError: 'invalid_grant' },
  unsupported_grant_type: { status: 400, oauthError: 'unsupported_grant_type' },
  invalid_scope: { status: 400, oauthError: 'invalid_scope' },
  incorrect_password: { status: 400, detail: 'Incorrect password' },
  last_admin: { status: 409 },
  // ASVS 2.2.1: the two 429s say which limit it is: this account's lock (the same for whoever
  // tries it), or the client address's rate limit (whose message names the budget).
  too_many_attempts: {
    status: 429,
    detail: 'Too many failed login attempts for this account; try again later',
  },
  rate_limited: { status: 429 },
  hashing_overloaded: { status: 503 },
  store_unavailable: { status: 503 },
  // RFC 9110 15.6.4, 10.2.3: a 503 says when to retry; RFC 9112 9.6: the connection is closed,
  // so the retry opens a new one, which reaches a running instance.
  shutting_down: {
    status: 503,
    detail: 'The server is shutting down; retry the request',
    headers: { connection: 'close' },
  },
  // API.md 8: production without SMTP; the operator's fix is named, nothing else is said.
  mail_unavailable: {
    status: 503,
    detail: 'Mail delivery is not configured on this server (GATEHOUSE_SMTP_URL is not set)',
  },
  // API.md 8: a 400 with code `invalid_token`, which is not the 401 of a bad access token.
  invalid_mail_token: {
    status: 400,
    detail: 'Invalid or expired token',
    bodyCode: 'invalid_token',
  },
  email_not_verified: { status: 403, detail: 'Email not verified', oauthError: 'invalid_grant' },
  // API.md 9: the body also carries the `mfa_token` (sendGatehouseError).
  mfa_required: {
    status: 403,
    detail: 'Multi-factor authentication required',
    oauthError: 'mfa_required',
  },
  invalid_mfa_code: { status: 400, detail: 'Invalid code', oauthError: 'invalid_grant' },
  mfa_already_enabled: { status: 409, detail: 'Two-factor authentication is already enabled' },
  mfa_not_pending: { status: 409, detail: 'No two-factor enrolment in progress' },
  invalid_passkey: { status: 400 },
} as const satisfies Record<ErrorCode, ErrorResponse>;

function sendGatehouseError(
  oauth: boolean,
  reply: FastifyReply,
  error: GatehouseError,
): FastifyReply {
  const mapping: ErrorResponse = ERROR_RESPONSES[error.code];
  if (error.code === 'invalid_input') {
    const issue: ValidationIssue = {
      loc: ['body', ...(error.field === undefined ? [] : [error.field])],
      msg: error.message,
      type: 'value_error',
    };
    return sendError(oauth, reply, 422, { detail: [issue], code: error.code });
  }
  const detail = mapping.detail ?? error.message;
  if (mapping.headers) reply.headers(mapping.headers);
  if (error.retryAfterSeconds !== undefined) {
    reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  }
  const code = mapping.bodyCode ?? error.code;
  const body = mapping.oauthError
    ? { ...oauthFields(mapping.status, detail, mapping.oauthError), detail, code }
    : { detail, code };
  // API.md 9: the only secret an error may carry, and only to the client that proved the password.
  if (error.mfaToken !== undefined) Object.assign(body, { mfa_token: error.mfaToken });
  return sendError(oauth, reply, mapping.status, body);
}

function sendValidation(
  oauth: boolean,
  reply: FastifyReply,
  issues: ValidationIssue[],
): FastifyReply {
  return sendError(oauth, reply, 422, { detail: issues });
}

/** Answers Fastify's own errors (parsing, limits) in the API's shape. */
function sendFrameworkError(
  oauth: boolean,
  request: FastifyRequest,
  reply: FastifyReply,
  error: FastifyError,
): FastifyReply | Promise<FastifyReply> {
  if (error.validation) {
    return sendValidation(
      oauth,
      reply,
      toValidationIssues(error.validationContext ?? 'body', error.validation),
    );
  }
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    // The rest of the body is read first, so closing after the 413 resets nothing.
    return drainRequestBody(request.raw).then(() =>
      sendError(oauth, reply, 413, { detail: 'Request body too large', code: 'body_too_large' }),
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
    return sendValidation(oauth, reply, [{ loc: ['body'], msg, type: 'body_parse_error' }]);
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return sendError(oauth, reply, status, { detail: error.message });
  }
  request.log.error({ err: error }, 'unhandled error');
  return sendError(oauth, reply, 500, { detail: 'Internal Server Error' });
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
  // A FastifyReply has a `then` (it resolves once the response is sent) so it looks like a
  // promise; the response is already on its way and there is nothing to wait for. No route
  // matched, so no OAuth endpoint's fields.
  void sendFrameworkError(false, request, reply, error);
}

/** Errors that are logged at warn level: signs of an attack, not of a client mistake. */
const SECURITY_EVENTS: ReadonlySet<ErrorCode> = new Set(['refresh_token_reused']);

/**
 * The error handler of every route, or of an OAuth endpoint's (route config `oauthErrors`).
 * Chosen once per route (`onRoute`), not per error: `request.routeOptions` builds a 12-field
 * object on every read, and a rejected bearer token is an attacker's cheapest request.
 */
function errorHandler(oauth: boolean) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
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
      return sendGatehouseError(oauth, reply, error);
    }
    if (error instanceof RequestValidationError) {
      return sendValidation(oauth, reply, error.issues);
    }
    return sendFrameworkError(oauth, request, reply, error);
  };
}

/**
 * Every error of every route is turned into a response here, and only here. Call before the
 * routes are registered: OAuth endpoints get their handler as they are added, and the paths
 * of all are known to the not-found handler (405 for a known path, 404 for an unknown one).
 * A route's own handler answers errors of every step of its requests, app-wide hooks included.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  // Declared on every request, metrics on or off: requests keep one shape.
  app.decorateRequest('errorCode', undefined);
  app.setErrorHandler(errorHandler(false));
  const oauthErrorHandler = errorHandler(true);
  app.addHook('onRoute', (route) => {
    // Fastify treats a route's handler as setErrorHandler's (both go through its
    // buildErrorHandler), so a returned promise (the 413 after draining) is awaited the same.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- see above
    if (route.config?.oauthErrors === true) route.errorHandler = oauthErrorHandler;
  });
  const allowedMethods = allowedMethodsOf(app);
  app.setNotFoundHandler((request, reply) => {
    // OPTIONS: with CORS on, @fastify/cors answers it (security-headers.ts); without, 404 as before.
    const allow = request.method === 'OPTIONS' ? [] : allowedMethods(request.url);
    // A route of this very method that found nothing to serve (a missing Swagger UI asset
    // calls the not-found handler) is a missing resource, not a wrong method: 404.
    if (allow.length === 0 || allow.includes(request.method)) {
      return reply.code(404).send({ detail: 'Not Found' });
    }
    // RFC 9110 15.5.6: the path exists, the method doesn't; Allow lists the ones that do (as
    // FastAPI answers, in its wording).
    return reply
      .code(405)
      .header('allow', allow.join(', '))
      .send({ detail: 'Method Not Allowed', code: 'method_not_allowed' });
  });
}
