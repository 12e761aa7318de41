import { Type } from 'typebox';

/** Response and error shapes shared by routes (OpenAPI documents them; responses are serialised through them). */
export const PublicUserSchema = Type.Object({
  id: Type.Integer(),
  email: Type.String(),
  role: Type.Union([Type.Literal('user'), Type.Literal('admin')]),
  disabled: Type.Boolean(),
  email_verified: Type.Boolean(),
  mfa_enabled: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
});

/** The body of a 204. */
export const NoContent = Type.Null({ description: 'No content' });

/** An `:id` path parameter: ids are Postgres `integer`s, so a larger one is a 422, never a 500. */
export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });

export const ErrorSchema = Type.Object({
  detail: Type.Unknown(),
  code: Type.Optional(Type.String()),
  // RFC 6749 5.2 fields of /token errors.
  error: Type.Optional(Type.String()),
  error_description: Type.Optional(Type.String()),
});

/**
 * The client errors of an operation that has none of its own: a request refused before any
 * route runs, by Node's HTTP parser (RFC 9112 malformed syntax: 400; oversized headers: 431;
 * too slow: 408; http/client-errors.ts) or by the Host check (a missing or repeated Host: 400;
 * http/host-header.ts). Both answer in the API's shape (API.md 1). Declared so clients (and
 * Redocly's operation-4xx-response rule) see every status such an operation can give; the
 * Host check's answer is serialised through it, so it must fit what is sent.
 */
export const MALFORMED_REQUEST = {
  '4xx': Type.Object(
    {
      detail: Type.String(),
      code: Type.String({ examples: ['malformed_request', 'headers_too_large'] }),
    },
    { description: 'Malformed HTTP request, refused before routing' },
  ),
};
